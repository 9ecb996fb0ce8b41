/**
 * What a run simulates: the cell (a machine file, or a synthetic cell of n nodes of a trace's
 * machine shape) and the arrivals (a trace replayed, optionally time-scaled to a target load, or
 * synthetic Poisson arrivals of jobs resampled from a trace, at a target load or a load schedule).
 *
 * Load is offered utilisation of the bottleneck resource: Σ request × run time over the arrival
 * span, divided by the cell's capacity, maximized over resources. alibaba2017 asks ≈2.2× as much
 * memory as CPU of its own cell, so its load is set by memory. Run times are the trace's, capped
 * at `maxTaskDurationS`, and the load is computed with the same cap, so "80%" means what the
 * simulated cell actually receives.
 */
import { ResourceSpace, taskCount, type JobSpec, type NodeRegistration } from '@tessera/core';
import { createRng, type Rng } from '@tessera/policy';
import {
  BUNDLED,
  CELL_SHAPES,
  jobSizeDistribution,
  loadTrace,
  nodeRegistration,
  readMachines,
  syntheticCell,
  taskDurationS,
  type JobSizeDistribution,
  type TraceFormat,
  type TraceJob,
} from '@tessera/workloads';
import type { SimJob } from './engine.ts';

/** From `fromS` on (seconds of simulated time) the offered load is `load`, until the next step. */
export interface LoadStep {
  readonly fromS: number;
  readonly load: number;
}

export interface WorkloadOptions {
  /** A trace to replay (any format @tessera/workloads reads). */
  readonly workload?: string;
  /** The trace whose jobs are resampled for synthetic arrivals (default: bundled alibaba2017). */
  readonly sizes?: string;
  /** A machine file for the cell. */
  readonly machines?: string;
  /** A synthetic cell of this many nodes of the trace's machine shape. */
  readonly nodes?: number;
  /**
   * Target load: with `workload`, the trace's arrivals are time-scaled to it; without, Poisson
   * arrivals of resampled jobs at that load. A schedule of steps is synthetic only.
   */
  readonly load?: number | readonly LoadStep[];
  readonly seed: number | string;
  /** Caps run times (s), here for the load computation; the engine applies the same cap. */
  readonly maxTaskDurationS: number;
  readonly defaultTaskDurationS: number;
  readonly space?: ResourceSpace;
  /**
   * Jobs of a priority below this (and no `preemptible` of their own) are submitted preemptible:
   * google2011's batch, below production priority 9 (DESIGN §11). Default: as the trace says.
   */
  readonly preemptibleBelow?: number;
}

export interface Workload {
  readonly space: ResourceSpace;
  readonly nodes: NodeRegistration[];
  readonly arrivals: Iterable<SimJob>;
  /** How the run was set up, for the summary's `config`. */
  readonly describe: Record<string, unknown>;
}

/** The default cell of a trace format when neither a machine file nor a node count is given. */
export const DEFAULT_CELL: Readonly<Record<TraceFormat, { machines?: string; nodes?: number; shape: keyof typeof CELL_SHAPES }>> = Object.freeze({
  alibaba2017: { machines: BUNDLED.alibaba2017Machines, shape: 'alibaba2017' },
  alibaba_gpu2023: { machines: BUNDLED.alibabaGpu2023Machines, shape: 'alibaba_gpu2023' },
  // google2011 has no machine table: 12,500 nodes (the trace names 12,496 machines) of the "1.0"
  // machine (32 cores, 128 GiB; see @tessera/workloads shapes.ts). Size by --load, not by count.
  google2011: { nodes: 12_500, shape: 'google2011' },
  tessera: { machines: BUNDLED.alibaba2017Machines, shape: 'alibaba2017' },
});

const traceCache = new Map<string, TraceJob[]>();

/** A trace in memory, read once per process (experiments reuse it across runs). */
export async function cachedTrace(path: string, space: ResourceSpace): Promise<TraceJob[]> {
  const key = `${path}|${space.names.join(',')}`;
  let jobs = traceCache.get(key);
  if (jobs === undefined) {
    // Groups without a run time are left out rather than given an invented one; google2011 jobs
    // already running at the window start (`initial`) are not arrivals, so they are left out too.
    jobs = (await loadTrace(path, { space, requireDuration: true, includeInitial: false })).jobs;
    if (jobs.length === 0) throw new RangeError(`${path}: no job with run times in it`);
    traceCache.set(key, jobs);
  }
  return jobs;
}

/** Resource-seconds per job (mean over `jobs`) with run times capped, as a vector of `space`. */
export function meanWork(jobs: readonly TraceJob[], space: ResourceSpace, capS: number, defaultS: number): Float64Array {
  const work = space.zero();
  for (const tj of jobs) {
    for (const g of tj.job.tasks) {
      let busy = 0;
      for (let i = 0; i < g.count; i++) {
        const d = taskDurationS(tj, g.name, i) ?? g.duration_s ?? defaultS;
        busy += Math.min(d >= 0 ? d : defaultS, capS);
        if (tj.taskDurationsS === undefined) {
          busy *= g.count; // one group-wide duration: no need to walk every instance
          break;
        }
      }
      const v = space.vector(g.resources);
      for (let r = 0; r < v.length; r++) work[r] += v[r] * busy;
    }
  }
  for (let r = 0; r < work.length; r++) work[r] /= jobs.length;
  return work;
}

/** Jobs per second at which jobs of mean work `work` offer `load` of the bottleneck resource. */
export function rateForLoad(work: Float64Array, capacity: Float64Array, load: number): number {
  let share = 0;
  for (let r = 0; r < work.length; r++) if (capacity[r] > 0) share = Math.max(share, work[r] / capacity[r]);
  if (!(share > 0)) throw new RangeError('the jobs ask for no resource the cell has');
  return load / share;
}

export async function loadCell(options: Pick<WorkloadOptions, 'machines' | 'nodes'>, format: TraceFormat, space: ResourceSpace): Promise<{ nodes: NodeRegistration[]; cell: string }> {
  const def = DEFAULT_CELL[format];
  if (options.machines !== undefined) {
    const { machines } = await readMachines(options.machines);
    if (machines.length === 0) throw new RangeError(`${options.machines}: no machines in it`);
    return { nodes: machines.map((m) => nodeRegistration(m, space)), cell: options.machines };
  }
  if (options.nodes !== undefined || def.machines === undefined) {
    const n = options.nodes ?? def.nodes!;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`nodes must be an integer ≥ 1, got ${n}`);
    return { nodes: syntheticCell(n, CELL_SHAPES[def.shape]).map((m) => nodeRegistration(m, space)), cell: `synthetic ${n} × ${def.shape}` };
  }
  const { machines } = await readMachines(def.machines);
  return { nodes: machines.map((m) => nodeRegistration(m, space)), cell: def.machines };
}

function capacityOf(nodes: readonly NodeRegistration[], space: ResourceSpace): Float64Array {
  const c = space.zero();
  for (const n of nodes) for (let r = 0; r < c.length; r++) c[r] += n.capacity[r];
  return c;
}

export async function buildWorkload(o: WorkloadOptions): Promise<Workload> {
  const space = o.space ?? ResourceSpace.default;
  const tracePath = o.workload ?? o.sizes ?? BUNDLED.alibaba2017Jobs;
  const jobs = await cachedTrace(tracePath, space);
  const format = jobs[0].format;
  const { nodes, cell } = await loadCell(o, format, space);
  const capacity = capacityOf(nodes, space);
  const work = meanWork(jobs, space, o.maxTaskDurationS, o.defaultTaskDurationS);
  const describe: Record<string, unknown> = { trace: tracePath, cell, nodes: nodes.length };
  const below = o.preemptibleBelow;
  const mark = below === undefined ? (job: JobSpec) => job : (job: JobSpec): JobSpec => (job.priority < below && job.preemptible === undefined ? { ...job, preemptible: true } : job);
  if (below !== undefined) describe.preemptible_below = below;

  if (o.workload !== undefined) {
    if (Array.isArray(o.load)) throw new RangeError('a load schedule needs synthetic arrivals (leave out --workload)');
    const origin = jobs[0].submitS;
    const span = jobs[jobs.length - 1].submitS - origin;
    let speed = 1;
    if (typeof o.load === 'number') {
      // Offered load at speed 1 = jobs × mean work / span / capacity (bottleneck resource).
      if (!(span > 0)) throw new RangeError(`${o.workload}: all jobs are submitted at once, cannot time-scale to a load`);
      speed = (o.load * span) / (jobs.length / rateForLoad(work, capacity, 1));
      describe.load = o.load;
      describe.speed = speed;
    }
    describe.arrivals = 'trace';
    const arrivals: Iterable<SimJob> = {
      *[Symbol.iterator]() {
        for (const tj of jobs) yield { submitS: (tj.submitS - origin) / speed, job: mark(tj.job), taskDurationsS: tj.taskDurationsS };
      },
    };
    return { space, nodes, arrivals, describe };
  }

  const steps: readonly LoadStep[] = o.load === undefined ? [{ fromS: 0, load: 0.8 }] : typeof o.load === 'number' ? [{ fromS: 0, load: o.load }] : o.load;
  checkSteps(steps);
  const ratePerLoad = rateForLoad(work, capacity, 1);
  describe.arrivals = 'poisson';
  describe.load = steps.length === 1 ? steps[0].load : steps;
  describe.jobs_per_s = steps.length === 1 ? ratePerLoad * steps[0].load : undefined;
  const dist = jobSizeDistribution(jobs);
  const seed = o.seed;
  return {
    space,
    nodes,
    arrivals: below === undefined
      ? { [Symbol.iterator]: () => poissonSchedule(dist, createRng(`${seed}/arrivals`), ratePerLoad, steps) }
      : { *[Symbol.iterator]() { for (const j of poissonSchedule(dist, createRng(`${seed}/arrivals`), ratePerLoad, steps)) yield { ...j, job: mark(j.job) }; } },
    describe,
  };
}

function checkSteps(steps: readonly LoadStep[]): void {
  if (steps.length === 0) throw new RangeError('a load schedule needs at least one step');
  let prev = -Infinity;
  for (const s of steps) {
    if (!(s.load >= 0) || !Number.isFinite(s.load)) throw new RangeError(`load must be a finite number ≥ 0, got ${s.load}`);
    if (!(s.fromS > prev)) throw new RangeError('load steps must start at increasing times');
    prev = s.fromS;
  }
}

/**
 * Poisson arrivals whose rate follows the load schedule (piecewise constant; at a step the next
 * gap is drawn afresh at the new rate, which is exact for a Poisson process). Jobs are drawn
 * from `dist` (whole real jobs: groups, counts, requests and run times together).
 */
export function* poissonSchedule(dist: JobSizeDistribution, rng: Rng, ratePerLoad: number, steps: readonly LoadStep[]): Generator<SimJob> {
  let t = steps[0].fromS;
  let k = 0;
  let n = 0;
  for (;;) {
    const rate = ratePerLoad * steps[k].load;
    const end = k + 1 < steps.length ? steps[k + 1].fromS : Infinity;
    const gap = rate > 0 ? -Math.log(1 - rng.next()) / rate : Infinity;
    if (t + gap >= end) {
      if (end === Infinity) return;
      t = end;
      k++;
      continue;
    }
    t += gap;
    const s = dist.sample(rng);
    yield {
      submitS: t,
      job: { id: `syn-${n++}`, tenant: s.tenant, queue: s.queue, priority: s.priority, gang: s.gang, tasks: s.tasks },
      ...(s.taskDurationsS !== undefined ? { taskDurationsS: s.taskDurationsS } : {}),
    };
  }
}

/** Total tasks of a list of arrivals (for bounds and reports). */
export function tasksOf(jobs: Iterable<SimJob>): number {
  let n = 0;
  for (const j of jobs) n += taskCount(j.job);
  return n;
}
