/**
 * Empirical job distributions for synthetic arrivals that keep a real trace's shapes.
 *
 * `sample` draws a whole real job (bootstrap resampling): its task groups, counts, requests and
 * run times come together, so the correlations between them (big jobs with small tasks, long
 * tasks with large requests…) are the trace's, not an independence assumption. `sampleTaskCount`
 * and `sampleTask` give the marginals (tasks per job; one task, instance-weighted) for callers that
 * build jobs themselves. All randomness comes from the `RandomSource` passed in.
 */
import type { TaskGroupSpec } from '@tessera/core';
import { taskDurationS } from './convert.ts';
import type { MetaValue, RandomSource, TraceFormat, TraceJob } from './types.ts';

export interface SampledJob {
  readonly tenant: string;
  readonly queue: string;
  readonly priority: number;
  readonly gang: boolean;
  readonly tasks: TaskGroupSpec[];
  /** Per-task run times of the sampled job, when its trace has them (google2011). */
  readonly taskDurationsS?: Record<string, (number | null)[]>;
  /** The real job this one was drawn from. */
  readonly sampledFrom: string;
  readonly format: TraceFormat;
}

export interface SampledTask {
  readonly resources: Record<string, number>;
  /** Undefined when the trace has no run time for that task. */
  readonly durationS: number | undefined;
}

export interface JobSizeDistribution {
  /** Jobs and task instances in the support. */
  readonly jobs: number;
  readonly tasks: number;
  readonly meanTasksPerJob: number;
  /** (last − first submit) / (jobs − 1) of the source; NaN with fewer than two jobs. */
  readonly meanInterarrivalS: number;
  /** Mean over jobs of Σ request × run time, per resource. */
  readonly meanResourceSecondsPerJob: Readonly<Record<string, number>>;
  /** A copy of a uniformly drawn real job's shape (no id, no submit time). */
  sample(rng: RandomSource): SampledJob;
  /** Tasks per job, drawn from the real jobs. */
  sampleTaskCount(rng: RandomSource): number;
  /** One task drawn uniformly over all real task instances: its request and run time. */
  sampleTask(rng: RandomSource): SampledTask;
}

/** ⌊u·n⌋, kept below n even if a source returns exactly 1. */
function pick(rng: RandomSource, n: number): number {
  const i = Math.floor(rng.next() * n);
  return i >= n ? n - 1 : i < 0 ? 0 : i;
}

/** Builds the distribution from a trace held in memory (e.g. `loadTrace(…).jobs`). */
export function jobSizeDistribution(trace: Iterable<TraceJob>): JobSizeDistribution {
  const jobs: TraceJob[] = [];
  // Instance-weighted task sampling: cumulative instance counts over every (job, group) pair.
  const groupJob: number[] = [];
  const groupIndex: number[] = [];
  const cumulative: number[] = [];
  const seconds: Record<string, number> = {};
  let tasks = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const tj of trace) {
    const j = jobs.length;
    jobs.push(tj);
    if (tj.submitS < first) first = tj.submitS;
    if (tj.submitS > last) last = tj.submitS;
    tj.job.tasks.forEach((g, gi) => {
      tasks += g.count;
      groupJob.push(j);
      groupIndex.push(gi);
      cumulative.push(tasks);
      let busyS = 0;
      for (let i = 0; i < g.count; i++) busyS += taskDurationS(tj, g.name, i) ?? 0;
      for (const [r, amount] of Object.entries(g.resources)) seconds[r] = (seconds[r] ?? 0) + amount * busyS;
    });
  }
  if (jobs.length === 0) throw new RangeError('jobSizeDistribution: the trace has no jobs');
  const meanSeconds: Record<string, number> = {};
  for (const [r, s] of Object.entries(seconds)) meanSeconds[r] = s / jobs.length;
  const taskCounts = jobs.map((tj) => tj.job.tasks.reduce((a, g) => a + g.count, 0));

  return {
    jobs: jobs.length,
    tasks,
    meanTasksPerJob: tasks / jobs.length,
    meanInterarrivalS: jobs.length > 1 ? (last - first) / (jobs.length - 1) : Number.NaN,
    meanResourceSecondsPerJob: meanSeconds,
    sample(rng) {
      const tj = jobs[pick(rng, jobs.length)];
      return {
        tenant: tj.job.tenant,
        queue: tj.job.queue,
        priority: tj.job.priority,
        gang: tj.job.gang,
        tasks: structuredClone(tj.job.tasks),
        ...(tj.taskDurationsS !== undefined ? { taskDurationsS: structuredClone(tj.taskDurationsS) as Record<string, (number | null)[]> } : {}),
        sampledFrom: tj.job.id,
        format: tj.format,
      };
    },
    sampleTaskCount(rng) {
      return taskCounts[pick(rng, taskCounts.length)];
    },
    sampleTask(rng) {
      const k = pick(rng, tasks); // the k-th task instance overall
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] > k) hi = mid;
        else lo = mid + 1;
      }
      const tj = jobs[groupJob[lo]];
      const g = tj.job.tasks[groupIndex[lo]];
      const index = k - (lo === 0 ? 0 : cumulative[lo - 1]);
      return { resources: { ...g.resources }, durationS: taskDurationS(tj, g.name, index) };
    },
  };
}

/**
 * Arrival rate (jobs/s) at which sampled jobs offer `target` utilisation of `resource` on a cell of
 * this capacity; without `resource`, of the bottleneck (the lowest rate over the resources the
 * cell has), so no resource is offered more than `target`.
 */
export function arrivalRateForUtilisation(
  dist: JobSizeDistribution,
  capacity: Readonly<Record<string, number>>,
  target: number,
  resource?: string,
): number {
  if (!(target > 0) || !Number.isFinite(target)) throw new RangeError(`arrivalRateForUtilisation: target must be a finite number > 0, got ${target}`);
  const rateFor = (r: string): number => {
    const work = dist.meanResourceSecondsPerJob[r];
    const cap = capacity[r];
    return work > 0 && cap > 0 ? (target * cap) / work : Infinity;
  };
  const rate = resource !== undefined ? rateFor(resource) : Math.min(...Object.keys(capacity).map(rateFor));
  if (!Number.isFinite(rate)) throw new RangeError(`arrivalRateForUtilisation: no ${resource ?? ''} work in the trace that the cell has capacity for`);
  return rate;
}

export interface PoissonArrivalOptions {
  /** Mean arrivals per second. */
  readonly ratePerS: number;
  readonly rng: RandomSource;
  /** Time of the first gap's start (default 0). */
  readonly startS?: number;
  /** Stop after this many jobs … */
  readonly count?: number;
  /** … or at this time, whichever comes first (default: never; break out of the loop). */
  readonly untilS?: number;
  /** Job ids are `${idPrefix}${n}`, n from 0 (default `syn-`). */
  readonly idPrefix?: string;
}

const ID_PREFIX = /^[A-Za-z0-9_.:@-]{0,180}$/;

/**
 * Poisson arrivals (exponential gaps, mean 1/ratePerS) of jobs drawn from `dist`. Deterministic
 * for a given rng state. Each job keeps the real job's groups, requests and run times.
 */
export function poissonArrivals(dist: JobSizeDistribution, options: PoissonArrivalOptions): Generator<TraceJob> {
  const { ratePerS, rng } = options;
  if (!(ratePerS > 0) || !Number.isFinite(ratePerS)) throw new RangeError(`poissonArrivals: ratePerS must be a finite number > 0, got ${ratePerS}`);
  const prefix = options.idPrefix ?? 'syn-';
  if (!ID_PREFIX.test(prefix)) throw new RangeError(`poissonArrivals: idPrefix "${prefix}" has characters a job id may not have`);
  const count = options.count ?? Infinity;
  const until = options.untilS ?? Infinity;
  return (function* () {
    let t = options.startS ?? 0;
    for (let n = 0; n < count; n++) {
      t += -Math.log(1 - rng.next()) / ratePerS;
      if (t > until) return;
      const s = dist.sample(rng);
      const meta: Record<string, MetaValue> = { sampled_from: s.sampledFrom };
      yield {
        submitS: t,
        job: { id: `${prefix}${n}`, tenant: s.tenant, queue: s.queue, priority: s.priority, gang: s.gang, tasks: s.tasks },
        format: s.format,
        ...(s.taskDurationsS !== undefined ? { taskDurationsS: s.taskDurationsS } : {}),
        meta,
      };
    }
  })();
}
