/**
 * Rebuilding the model from the commit log: read the entries after `model.lastSeq` up to `to`,
 * decode (bad entries and records are logged and skipped, never fatal) and apply each with the
 * pure `applyEntry`. Used at start-up and to catch up after a failed append.
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
    const d = decodeEntry(data);
    if (!d.ok) {
      logger.error({ seq, problem: d.problem }, 'skipping an unreadable commit-log entry');
      skipped++;
      model.lastSeq = seq;
      return;
    }
    for (const p of d.problems) logger.error({ seq, problem: p }, 'skipping an unreadable commit-log record');
    skipped += d.problems.length;
    const effects = applyEntry(model, d.entry, seq, emptyEffects());
    for (const a of effects.anomalies) logger.warn({ seq, anomaly: a }, 'commit-log record applied in part');
    anomalies += effects.anomalies.length;
    entries++;
    records += d.entry.records.length;
    onEffects?.(effects);
  });
  return { entries, records, skipped, anomalies, bytes, seconds: (performance.now() - t0) / 1000 };
}
