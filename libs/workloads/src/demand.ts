/**
 * How much work a trace offers, and time scaling of its arrivals.
 *
 * A trace's demand for resource r is Σ over tasks of request_r × run time (resource-seconds).
 * Spread over the arrival span, that is an offered rate; divided by a cell's capacity, the
 * utilisation the trace would ask of that cell. Replaying with arrivals `speed` times denser
 * (run times unchanged) multiplies that utilisation by `speed`: `speedForUtilisation` solves for
 * the speed that reaches a target. It is a steady-state figure: the work of jobs still running
 * after the last arrival, and queueing, are not in it.
 */
import { taskDurationS } from './convert.ts';
import type { TraceJob } from './types.ts';

export interface TraceDemand {
  readonly jobs: number;
  readonly tasks: number;
  /** Tasks with no known run time; they add nothing to `resourceSeconds`. */
  readonly tasksWithoutDuration: number;
  readonly firstSubmitS: number;
  readonly lastSubmitS: number;
  /** lastSubmitS − firstSubmitS. */
  readonly spanS: number;
  /** Σ request × run time per resource name, over tasks with a known run time. */
  readonly resourceSeconds: Readonly<Record<string, number>>;
  /** Σ request × count per resource name, over all tasks. */
  readonly requested: Readonly<Record<string, number>>;
}

/** Accumulates demand one job at a time (for streams too large to hold). */
export class DemandMeter {
  private jobs = 0;
  private tasks = 0;
  private withoutDuration = 0;
  private first = Infinity;
  private last = -Infinity;
  private readonly seconds: Record<string, number> = {};
  private readonly requested: Record<string, number> = {};

  add(tj: TraceJob): void {
    this.jobs++;
    if (tj.submitS < this.first) this.first = tj.submitS;
    if (tj.submitS > this.last) this.last = tj.submitS;
    for (const g of tj.job.tasks) {
      this.tasks += g.count;
      for (const [r, amount] of Object.entries(g.resources)) this.requested[r] = (this.requested[r] ?? 0) + amount * g.count;
      const per = tj.taskDurationsS?.[g.name];
      let busyS = 0;
      if (per !== undefined) {
        for (let i = 0; i < g.count; i++) {
          const d = taskDurationS(tj, g.name, i);
          if (d === undefined) this.withoutDuration++;
          else busyS += d;
        }
      } else if (g.duration_s !== undefined) {
        busyS = g.duration_s * g.count;
      } else {
        this.withoutDuration += g.count;
      }
      for (const [r, amount] of Object.entries(g.resources)) this.seconds[r] = (this.seconds[r] ?? 0) + amount * busyS;
    }
  }

  result(): TraceDemand {
    const empty = this.jobs === 0;
    return {
      jobs: this.jobs,
      tasks: this.tasks,
      tasksWithoutDuration: this.withoutDuration,
      firstSubmitS: empty ? 0 : this.first,
      lastSubmitS: empty ? 0 : this.last,
      spanS: empty ? 0 : this.last - this.first,
      resourceSeconds: { ...this.seconds },
      requested: { ...this.requested },
    };
  }
}

export function traceDemand(jobs: Iterable<TraceJob>): TraceDemand {
  const m = new DemandMeter();
  for (const j of jobs) m.add(j);
  return m.result();
}

export async function traceDemandAsync(jobs: AsyncIterable<TraceJob>): Promise<TraceDemand> {
  const m = new DemandMeter();
  for await (const j of jobs) m.add(j);
  return m.result();
}

/** Utilisation per resource that replaying at speed 1 offers a cell of this capacity. */
export function offeredUtilisation(demand: TraceDemand, capacity: Readonly<Record<string, number>>): Record<string, number> {
  if (!(demand.spanS > 0)) throw new RangeError('offeredUtilisation: the trace spans no time (fewer than two distinct submit times)');
  const out: Record<string, number> = {};
  for (const [r, c] of Object.entries(capacity)) {
    if (c > 0) out[r] = (demand.resourceSeconds[r] ?? 0) / demand.spanS / c;
  }
  return out;
}

/**
 * The arrival speed-up that makes the trace offer `target` utilisation (e.g. 0.8) of `resource`
 * on a cell of this capacity; > 1 compresses arrivals, < 1 spreads them. Without `resource`, the
 * bottleneck: the resource the trace loads most (for alibaba2017 on its own machines that is
 * memory, not CPU), so no resource is offered more than `target`.
 */
export function speedForUtilisation(
  demand: TraceDemand,
  capacity: Readonly<Record<string, number>>,
  target: number,
  resource?: string,
): number {
  if (!(target > 0) || !Number.isFinite(target)) throw new RangeError(`speedForUtilisation: target must be a finite number > 0, got ${target}`);
  const offered = offeredUtilisation(demand, capacity);
  const r = resource ?? bottleneck(offered);
  const u = r === undefined ? undefined : offered[r];
  if (u === undefined || !(u > 0)) throw new RangeError(`speedForUtilisation: the trace offers no ${r ?? ''} work the cell has capacity for`);
  return target / u;
}

/** The resource with the highest utilisation, or undefined when none is above 0. */
export function bottleneck(utilisation: Readonly<Record<string, number>>): string | undefined {
  let best: string | undefined;
  for (const [r, u] of Object.entries(utilisation)) if (u > 0 && (best === undefined || u > utilisation[best])) best = r;
  return best;
}

/** The job with its submit time scaled: origin + (submit − origin) / speed. Run times are kept. */
export function scaleSubmit(tj: TraceJob, speed: number, originS = 0): TraceJob {
  return { ...tj, submitS: originS + (tj.submitS - originS) / speed };
}

function checkSpeed(speed: number): void {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`speed must be a finite number > 0, got ${speed}`);
}

/** Arrivals `speed` times denser (speed 2: twice the arrival rate, half the span). Keeps order. */
export function scaleArrivals(source: Iterable<TraceJob>, speed: number, originS = 0): Generator<TraceJob> {
  checkSpeed(speed);
  return (function* () {
    for (const tj of source) yield scaleSubmit(tj, speed, originS);
  })();
}

export function scaleArrivalsAsync(source: AsyncIterable<TraceJob>, speed: number, originS = 0): AsyncGenerator<TraceJob> {
  checkSpeed(speed);
  return (async function* () {
    for await (const tj of source) yield scaleSubmit(tj, speed, originS);
  })();
}
