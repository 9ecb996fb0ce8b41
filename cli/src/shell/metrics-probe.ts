/** Reading the services' /metrics during a replay (counters before/after, utilisation samples). */
import { bucketDelta, histogramBuckets, parsePromText, sumSamples, type Sample } from '../core/prom-text.ts';

export async function scrape(url: string | undefined): Promise<Sample[] | undefined> {
  if (url === undefined) return undefined;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    return parsePromText(await res.text());
  } catch {
    return undefined;
  }
}

export interface CommitSnapshot {
  readonly committed?: number;
  readonly rejected?: number;
  readonly conflicts?: number;
}

export function commitSnapshot(samples: readonly Sample[] | undefined): CommitSnapshot {
  if (samples === undefined) return {};
  return {
    committed: sumSamples(samples, 'tessera_commit_claims_total', { outcome: 'committed' }),
    rejected: sumSamples(samples, 'tessera_commit_claims_total', { outcome: 'rejected' }),
    conflicts: sumSamples(samples, 'tessera_commit_conflicts_total'),
  };
}

export function commitDelta(after: CommitSnapshot, before: CommitSnapshot): CommitSnapshot {
  const d = (a?: number, b?: number) => (a === undefined ? undefined : a - (b ?? 0));
  return { committed: d(after.committed, before.committed), rejected: d(after.rejected, before.rejected), conflicts: d(after.conflicts, before.conflicts) };
}

/** `tessera_cell_allocated_ratio{resource}` as a record. */
export function allocatedRatios(samples: readonly Sample[] | undefined): Record<string, number> | undefined {
  if (samples === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === 'tessera_cell_allocated_ratio' && s.labels.resource !== undefined) out[s.labels.resource] = s.value;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The schedulers' job-delay histogram summed over replicas. */
export async function delayBuckets(urls: readonly string[]): Promise<Map<number, number>> {
  const total = new Map<number, number>();
  for (const u of urls) {
    const s = await scrape(u);
    if (s === undefined) continue;
    for (const [le, v] of histogramBuckets(s, 'tessera_scheduler_job_delay_seconds')) total.set(le, (total.get(le) ?? 0) + v);
  }
  return total;
}

export { bucketDelta };
