/**
 * Rebuilding the model from the commit log: read the entries after `model.lastSeq` up to `to`,
 * verify each (its own hash and its link to the previous one: the log is tamper-evident, see
 * `core/log-records.ts`), decode (bad records are logged and skipped) and apply each with the
 * pure `applyEntry`. Used at start-up, to catch up after a failed append, and at a promotion;
 * a standby's follower applies entries one by one with `applyStoredEntry`.
 *
 * An entry that fails verification (or does not decode at all) is never applied: every path
 * stops with LogIntegrityError naming its sequence, and the process's corruption handler
 * (`onLogCorruption`, set by main: a fatal log line and exit) runs, since several callers
 * would otherwise retry or step down and carry on.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@tessera/runtime';
import { CHAINED_LOG_VERSION, decodeEntry, hashHex, sameHash } from '../core/log-records.ts';
import { applyEntry, emptyEffects, type ApplyEffects, type CellModel } from '../core/model.ts';
import type { CommitLogPort } from './commit-log.ts';

export interface ReplayStats {
  readonly entries: number;
  readonly records: number;
  readonly skipped: number;
  readonly anomalies: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** What applying one stored entry did. */
export interface AppliedEntry {
  /** Undefined when the whole entry was unreadable (skipped; `model.lastSeq` still moves on). */
  readonly effects: ApplyEffects | undefined;
  readonly records: number;
  readonly skipped: number;
  /** Writer id of the entry, when readable. */
  readonly writer: string | undefined;
}

/** A commit-log entry that is not what its writer stored: never applied. */
export class LogIntegrityError extends Error {
  override readonly name = 'LogIntegrityError';
  constructor(readonly seq: number, problem: string) {
    super(`commit-log entry ${seq} fails verification: ${problem}; refusing to apply it or anything after it (restore the log or its stream from a good copy)`);
  }
}

let corruptionHandler: ((e: LogIntegrityError) => void) | undefined;

/** What the process does when it meets a corrupted entry (main: log it and exit). */
export function onLogCorruption(handler: (e: LogIntegrityError) => void): void {
  corruptionHandler = handler;
}

function corrupted(seq: number, problem: string, logger: Logger): never {
  const e = new LogIntegrityError(seq, problem);
  logger.fatal({ seq, err: e }, 'corrupted commit-log entry');
  corruptionHandler?.(e);
  throw e;
}

/** Decodes, verifies and applies the entry stored at `seq` (the next one: `model.lastSeq + 1`). */
export function applyStoredEntry(model: CellModel, seq: number, data: Uint8Array, logger: Logger): AppliedEntry {
  const d = decodeEntry(data);
  if (!d.ok) return corrupted(seq, d.tampered ? d.problem.message : `unreadable (${d.problem.message})`, logger);
  if (d.prev !== undefined && model.lastHash !== undefined && !sameHash(d.prev, model.lastHash)) {
    return corrupted(seq, `it does not follow entry ${seq - 1} (its previous-entry hash ${hashHex(d.prev)}… is not ${hashHex(model.lastHash)}…): entry ${seq - 1} was altered, or entries are missing or out of order`, logger);
  }
  if (d.entry.v < CHAINED_LOG_VERSION && model.chained) return corrupted(seq, `an unchained (version ${d.entry.v}) entry after chained ones`, logger);
  for (const p of d.problems) logger.error({ seq, problem: p }, 'skipping an unreadable commit-log record');
  const effects = applyEntry(model, d.entry, seq, emptyEffects());
  model.lastHash = d.hash;
  if (d.prev !== undefined) model.chained = true;
  for (const a of effects.anomalies) logger.warn({ seq, anomaly: a }, 'commit-log record applied in part');
  return { effects, records: d.entry.records.length, skipped: d.problems.length, writer: d.entry.writer };
}

export async function replayInto(
  model: CellModel,
  log: CommitLogPort,
  to: number,
  logger: Logger,
  onEffects?: (effects: ApplyEffects) => void,
): Promise<ReplayStats> {
  const t0 = performance.now();
  let entries = 0, records = 0, skipped = 0, anomalies = 0, bytes = 0;
  // A snapshot of an older version has no chain hash: read its last entry again for it.
  const rehash = model.lastHash === undefined && model.lastSeq > 0 ? model.lastSeq : undefined;
  await log.read(rehash ?? model.lastSeq + 1, to, (seq, data) => {
    if (seq === rehash) {
      const d = decodeEntry(data);
      if (!d.ok) corrupted(seq, d.problem.message, logger);
      model.lastHash = d.hash;
      model.chained = d.prev !== undefined;
      return;
    }
    bytes += data.length;
    const a = applyStoredEntry(model, seq, data, logger);
    skipped += a.skipped;
    if (a.effects === undefined) return;
    anomalies += a.effects.anomalies.length;
    entries++;
    records += a.records;
    onEffects?.(a.effects);
  });
  return { entries, records, skipped, anomalies, bytes, seconds: (performance.now() - t0) / 1000 };
}
