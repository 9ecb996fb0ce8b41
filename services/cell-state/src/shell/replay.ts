/**
 * Rebuilding the model from the commit log: read the entries after `model.lastSeq` up to `to`,
 * decode (bad entries and records are logged and skipped, never fatal) and apply each with the
 * pure `applyEntry`. Used at start-up, to catch up after a failed append, and at a promotion;
 * a standby's follower applies entries one by one with `applyStoredEntry`.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@tessera/runtime';
import { decodeEntry } from '../core/log-records.ts';
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

/** Decodes and applies the entry stored at `seq` (the next one: `model.lastSeq + 1`). */
export function applyStoredEntry(model: CellModel, seq: number, data: Uint8Array, logger: Logger): AppliedEntry {
  const d = decodeEntry(data);
  if (!d.ok) {
    logger.error({ seq, problem: d.problem }, 'skipping an unreadable commit-log entry');
    model.lastSeq = seq;
    return { effects: undefined, records: 0, skipped: 1, writer: undefined };
  }
  for (const p of d.problems) logger.error({ seq, problem: p }, 'skipping an unreadable commit-log record');
  const effects = applyEntry(model, d.entry, seq, emptyEffects());
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
  await log.read(model.lastSeq + 1, to, (seq, data) => {
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
