/** The replay's end summary, pure: percentiles, conflict fraction, utilisation, and its text. */
import type { JobListing } from '@tessera/protocol';

/** Nearest-rank percentile of unsorted values (q in [0, 1]); undefined for none. */
export function percentile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export interface JobTally {
  readonly jobs: number;
  readonly byState: Record<string, number>;
  readonly tasks: number;
  /** Tasks that got a node (placed, running or finished). */
  readonly placedTasks: number;
  /** Submit → placed, seconds, for jobs the cell reports both times for. */
  readonly delaysS: number[];
}

export function tallyJobs(jobs: readonly JobListing[]): JobTally {
  const byState: Record<string, number> = {};
  let tasks = 0;
  let placedTasks = 0;
  const delaysS: number[] = [];
  for (const j of jobs) {
    byState[j.state] = (byState[j.state] ?? 0) + 1;
    tasks += j.tasks.length;
    for (const t of j.tasks) if (t.node !== undefined || t.state === 'running' || t.state === 'finished') placedTasks++;
    if (j.submittedAt !== undefined && j.placedAt !== undefined && j.placedAt >= j.submittedAt) delaysS.push((j.placedAt - j.submittedAt) / 1000);
  }
  return { jobs: jobs.length, byState, tasks, placedTasks, delaysS };
}

export interface CommitCounters {
  /** Claims committed / rejected by the committer (tessera_commit_claims_total{outcome}). */
  readonly committed?: number;
  readonly rejected?: number;
  /** tessera_commit_conflicts_total summed over reasons. */
  readonly conflicts?: number;
}

/** Rejected claims over all claims proposed; from conflicts when the claim counter is missing. */
export function conflictFraction(c: CommitCounters): number | undefined {
  const rejected = c.rejected ?? c.conflicts;
  if (rejected === undefined || c.committed === undefined) return undefined;
  const total = c.committed + rejected;
  return total > 0 ? rejected / total : 0;
}

export interface UtilisationStats {
  /** resource → mean and peak allocated ratio over the samples. */
  readonly [resource: string]: { readonly mean: number; readonly peak: number };
}

export function utilisation(samples: readonly Readonly<Record<string, number>>[]): UtilisationStats {
  const sums: Record<string, { sum: number; n: number; peak: number }> = {};
  for (const s of samples) {
    for (const [k, v] of Object.entries(s)) {
      if (!Number.isFinite(v)) continue;
      const e = (sums[k] ??= { sum: 0, n: 0, peak: 0 });
      e.sum += v;
      e.n++;
      if (v > e.peak) e.peak = v;
    }
  }
  const out: Record<string, { mean: number; peak: number }> = {};
  for (const [k, e] of Object.entries(sums)) out[k] = { mean: e.sum / e.n, peak: e.peak };
  return out;
}

export interface ReplaySummary {
  readonly trace: string;
  readonly speed: number;
  readonly wallS: number;
  readonly submitted: number;
  readonly duplicates: number;
  readonly jobs: JobTally;
  /** Claims committed during the replay (cell-state's counter), or placed tasks when unavailable. */
  readonly placements: number;
  readonly conflicts?: number;
  readonly conflictFraction?: number;
  readonly delayP50S?: number;
  readonly delayP99S?: number;
  /** Where the delays come from: the schedulers' histogram (interpolated in its buckets), or the job listing. */
  readonly delaySource?: 'jobs' | 'histogram';
  readonly utilisation: UtilisationStats;
  readonly unfinished: number;
}

const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const secs = (x: number | undefined) => (x === undefined ? 'n/a' : x < 1 ? `${(x * 1000).toFixed(1)} ms` : `${x.toFixed(2)} s`);

export function formatSummary(s: ReplaySummary): string {
  const states = Object.entries(s.jobs.byState).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  // Resources the cell has none of (gpu on CPU-only nodes) read 0 throughout: leave them out.
  const used = Object.entries(s.utilisation).filter(([, u]) => u.peak > 0);
  const util = (used.length > 0 ? used : Object.entries(s.utilisation)).map(([k, u]) => `${k} mean ${pct(u.mean)} peak ${pct(u.peak)}`).join('; ');
  return [
    `replay of ${s.trace} at ${s.speed}× finished in ${s.wallS.toFixed(1)} s`,
    `  jobs submitted      ${s.submitted}${s.duplicates > 0 ? ` (${s.duplicates} already submitted before)` : ''}`,
    `  job states          ${states || 'n/a'}${s.unfinished > 0 ? ` (${s.unfinished} still pending at the end)` : ''}`,
    `  placements          ${s.placements} (${s.jobs.placedTasks} of ${s.jobs.tasks} tasks placed)`,
    `  conflicts           ${s.conflicts ?? 'n/a'}`,
    `  conflict fraction   ${pct(s.conflictFraction)}`,
    `  delay p50 / p99     ${secs(s.delayP50S)} / ${secs(s.delayP99S)}${s.delaySource === 'histogram' ? ' (schedulers\' job-delay histogram)' : s.delaySource === 'jobs' ? ' (job listing)' : ''}`,
    `  utilisation         ${util || 'n/a'}`,
  ].join('\n');
}
