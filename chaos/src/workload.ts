/**
 * The chaos load: real alibaba2017 jobs (bootstrap-sampled with @tessera/workloads' empirical
 * distribution, seeded), made small and short enough that a few hundred tasks a second keep a
 * small cell about half full and every task ends well within the run:
 *  - a job's task count is capped (`maxTasksPerJob`), each group's count scaled alike (≥ 1);
 *  - each task's trace run time is divided by `durationDivisor` and clamped to
 *    [`minDurationS`, `maxDurationS`] (the trace's p50 of 23 s becomes ~2 s);
 *  - requests, group structure, tenants and priorities are the trace's.
 * Pure: randomness comes from the rng passed in.
 */
import type { JobSpec, TaskGroupSpec } from '@tessera/core';
import { cappedCounts, type JobSizeDistribution, type RandomSource } from '@tessera/workloads';

export interface ChaosWorkloadOptions {
  readonly maxTasksPerJob: number;
  readonly durationDivisor: number;
  readonly minDurationS: number;
  readonly maxDurationS: number;
  /** Used when the trace has no run time for a group. */
  readonly defaultDurationS: number;
}

export const DEFAULT_WORKLOAD: ChaosWorkloadOptions = Object.freeze({
  maxTasksPerJob: 40,
  durationDivisor: 10,
  minDurationS: 0.5,
  maxDurationS: 6,
  defaultDurationS: 2,
});

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** One sampled trace job as a chaos job spec with id `id`. */
export function chaosJob(dist: JobSizeDistribution, rng: RandomSource, id: string, o: ChaosWorkloadOptions = DEFAULT_WORKLOAD): JobSpec {
  const s = dist.sample(rng);
  const counts = cappedCounts(s.tasks.map((g) => g.count), o.maxTasksPerJob);
  const tasks: TaskGroupSpec[] = counts.map((count, i) => {
    const g = s.tasks[i];
    const traceS = g.duration_s ?? o.defaultDurationS * o.durationDivisor;
    const duration_s = Math.round(clamp(traceS / o.durationDivisor, o.minDurationS, o.maxDurationS) * 1000) / 1000;
    return { name: g.name, count, resources: { ...g.resources }, duration_s };
  });
  return { id, tenant: s.tenant, queue: s.queue, priority: s.priority, gang: s.gang, tasks };
}

/**
 * Preemption load: a chaos job made a filler — preemptible, priority 0, running `factor` times
 * longer. Fillers arrive on their own stream on top of the main load and fill the room it leaves,
 * so the main jobs (non-preemptible) find the cell full and evict fillers to get room; evicted
 * fillers go back to pending and are placed again (or given up with a reason) — the audit's
 * victims.
 */
export function asFiller(job: JobSpec, factor: number): JobSpec {
  return {
    ...job, priority: 0, preemptible: true,
    tasks: job.tasks.map((g) => ({ ...g, duration_s: Math.round((g.duration_s ?? 0) * factor * 1000) / 1000 })),
  };
}

/** How long filler tasks run, relative to the main load's (DEFAULT: 4×). */
export const FILLER_DURATION_FACTOR = 4;

/** Σ count × request × duration of a job, per resource (resource·seconds). */
export function jobWork(job: JobSpec): Record<string, number> {
  const out: Record<string, number> = {};
  for (const g of job.tasks) {
    for (const [r, v] of Object.entries(g.resources)) out[r] = (out[r] ?? 0) + g.count * v * (g.duration_s ?? 0);
  }
  return out;
}

/** Mean work per job of the chaos workload, estimated from `samples` draws of its own rng stream. */
export function meanJobWork(dist: JobSizeDistribution, rng: RandomSource, o: ChaosWorkloadOptions = DEFAULT_WORKLOAD, samples = 4_000): Record<string, number> {
  const sum: Record<string, number> = {};
  for (let i = 0; i < samples; i++) {
    for (const [r, w] of Object.entries(jobWork(chaosJob(dist, rng, `probe-${i}`, o)))) sum[r] = (sum[r] ?? 0) + w;
  }
  for (const r of Object.keys(sum)) sum[r] /= samples;
  return sum;
}

/** Jobs per second at which the bottleneck resource of `capacity` is `target` busy on average. */
export function jobRateFor(work: Readonly<Record<string, number>>, capacity: Readonly<Record<string, number>>, target: number): number {
  let rate = Infinity;
  for (const [r, cap] of Object.entries(capacity)) {
    const w = work[r];
    if (cap > 0 && w > 0) rate = Math.min(rate, (target * cap) / w);
  }
  if (!Number.isFinite(rate)) throw new RangeError('the workload asks for none of the resources the cell has');
  return rate;
}

/** Mean allocation of the bottleneck resource of `capacity` at `rate` jobs/s (the inverse of `jobRateFor`). */
export function utilisationAt(work: Readonly<Record<string, number>>, capacity: Readonly<Record<string, number>>, rate: number): number {
  let u = 0;
  for (const [r, cap] of Object.entries(capacity)) {
    const w = work[r];
    if (cap > 0 && w > 0) u = Math.max(u, (rate * w) / cap);
  }
  return u;
}

/** Mean tasks per job of the chaos workload, from `samples` draws of its own rng stream. */
export function meanTasksPerJob(dist: JobSizeDistribution, rng: RandomSource, o: ChaosWorkloadOptions = DEFAULT_WORKLOAD, samples = 4_000): number {
  let n = 0;
  for (let i = 0; i < samples; i++) for (const g of chaosJob(dist, rng, `probe-${i}`, o).tasks) n += g.count;
  return n / samples;
}
