/**
 * The saturation search, as a pure decision over the steps run so far, so it can be tested on
 * synthetic step results: double the offered rate while a step keeps up, then bisect between the
 * highest rate that kept up and the lowest that did not, until the bracket is tight or the step
 * budget is spent. "Kept up" is decided by `judgeStep` from what was measured in the step.
 */

export interface StepVerdictInput {
  /** Offered rate of the step (jobs/s). */
  readonly rate: number;
  /** Growth of the jobs-stream backlog (pending + unacked) over the step's measured window, jobs/s. */
  readonly backlogSlope: number;
  /** Backlog at the end of the step (jobs). */
  readonly backlogEnd: number;
  /** p99 job delay over the step (ms); NaN if no job finished. */
  readonly p99Ms: number;
  /** Jobs the load generator could not publish on time (open loop broken: it is the bottleneck). */
  readonly generatorBehind: number;
  /** Jobs finished in the window (a step where nothing finished cannot be judged fine). */
  readonly jobsFinished: number;
  /** Seconds the committed work trails the offered work at the end (NaN: unknown, not judged). */
  readonly workLagS?: number;
}

export interface StepVerdict {
  readonly ok: boolean;
  readonly reasons: string[];
}

export interface SaturationCriteria {
  /** p99 job delay must stay under this (ms). Default 1000. */
  readonly p99LimitMs: number;
  /** Backlog growth allowed, as a fraction of the offered rate (noise, bursts; at least 1 job/s). Default 0.1. */
  readonly slopeFraction: number;
  /** Backlog allowed at the end of a step, in seconds of offered load. Default 2. */
  readonly backlogSeconds: number;
  /**
   * Work lag allowed at the end of a step (s). The jobs backlog counts a 60 000-task job once;
   * this catches a cell that keeps up in jobs while falling behind in tasks. Default 3.
   */
  readonly workLagSeconds?: number;
}

export const DEFAULT_CRITERIA: SaturationCriteria = { p99LimitMs: 1000, slopeFraction: 0.1, backlogSeconds: 2, workLagSeconds: 3 };

/** Whether the system kept up with a step: bounded queue, p99 under the limit, open loop intact. */
export function judgeStep(s: StepVerdictInput, c: SaturationCriteria = DEFAULT_CRITERIA): StepVerdict {
  const reasons: string[] = [];
  // One big job held up for a moment shows as a slope of ~1 job/s over a short window.
  const slopeLimit = Math.max(1, c.slopeFraction * s.rate);
  if (s.backlogSlope > slopeLimit) reasons.push(`queue grows ${s.backlogSlope.toFixed(1)} jobs/s (limit ${slopeLimit.toFixed(1)})`);
  const backlogLimit = Math.max(20, c.backlogSeconds * s.rate);
  if (s.backlogEnd > backlogLimit) reasons.push(`backlog ${Math.round(s.backlogEnd)} jobs at the end (limit ${Math.round(backlogLimit)})`);
  const lagLimit = c.workLagSeconds ?? 3;
  if (s.workLagS !== undefined && s.workLagS > lagLimit) reasons.push(`committed work ${s.workLagS.toFixed(1)} s behind the offered work (limit ${lagLimit} s)`);
  if (s.jobsFinished === 0) reasons.push('no job finished in the window');
  else if (!(s.p99Ms <= c.p99LimitMs)) reasons.push(`p99 delay ${Number.isFinite(s.p99Ms) ? Math.round(s.p99Ms) : '?'} ms ≥ ${c.p99LimitMs} ms`);
  if (s.generatorBehind > 0) reasons.push(`load generator fell behind by ${s.generatorBehind} jobs`);
  return { ok: reasons.length === 0, reasons };
}

export interface SearchOptions {
  /** First rate tried (jobs/s). */
  readonly start: number;
  /** Never probe below this; if it fails, saturation is reported as 0. */
  readonly min: number;
  /** Never probe above this (the generator's or the machine's limit); if it passes, that is the answer. */
  readonly max: number;
  /** Stop when (fail − ok) / ok ≤ this. Default 0.1. */
  readonly tolerance?: number;
  /** Stop after this many steps whatever the bracket. Default 8. */
  readonly maxSteps?: number;
}

export interface Probe {
  readonly rate: number;
  readonly ok: boolean;
}

export type SearchDecision =
  | { readonly kind: 'probe'; readonly rate: number }
  | { readonly kind: 'done'; readonly saturation: number; readonly bracket: readonly [number, number | undefined]; readonly why: string };

/** What to do after `history` (in order): probe another rate, or stop with the saturation rate. */
export function nextProbe(history: readonly Probe[], o: SearchOptions): SearchDecision {
  const tolerance = o.tolerance ?? 0.1;
  const maxSteps = o.maxSteps ?? 8;
  if (!(o.min > 0 && o.start >= o.min && o.max >= o.start)) throw new RangeError(`need 0 < min ≤ start ≤ max, got ${o.min}, ${o.start}, ${o.max}`);
  if (history.length === 0) return { kind: 'probe', rate: o.start };
  let okRate: number | undefined;
  let failRate: number | undefined;
  for (const p of history) {
    if (p.ok) okRate = Math.max(okRate ?? 0, p.rate);
    else failRate = Math.min(failRate ?? Infinity, p.rate);
  }
  // A pass above a failure (noise): trust the failure, keep passes below it only.
  if (okRate !== undefined && failRate !== undefined && okRate >= failRate) {
    const below = history.filter((p) => p.ok && p.rate < failRate!).map((p) => p.rate);
    okRate = below.length > 0 ? Math.max(...below) : undefined;
  }
  const done = (why: string): SearchDecision => ({ kind: 'done', saturation: okRate ?? 0, bracket: [okRate ?? 0, failRate], why });
  if (okRate !== undefined && okRate >= o.max) return done(`kept up at the highest rate allowed (${o.max})`);
  if (failRate !== undefined && failRate <= o.min && okRate === undefined) return done(`did not keep up even at the lowest rate (${o.min})`);
  if (history.length >= maxSteps) return done(`step budget (${maxSteps}) spent`);
  if (failRate === undefined) return { kind: 'probe', rate: Math.min(o.max, okRate! * 2) };
  if (okRate === undefined) return { kind: 'probe', rate: Math.max(o.min, failRate / 2) };
  if ((failRate - okRate) / okRate <= tolerance) return done(`bracket within ${Math.round(tolerance * 100)}%`);
  return { kind: 'probe', rate: (okRate + failRate) / 2 };
}
