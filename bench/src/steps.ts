/**
 * `npm run bench -- --steps 0.5,2,0.5 --step-seconds 20 --mode M --json`: overload and recovery.
 * One fresh cell runs the load steps back to back, each a multiple of the saturation rate (given
 * with `--saturation-rate R`, or measured first on the same cell shape and mode); the summary has
 * one entry per step, in the brief's field names, plus how long the cell took after a load drop
 * to get its p99 delay back under the limit (from the per-second timeline).
 */
import { runOnFreshCell, searchSaturation, type Log, type WorkloadSpec } from './experiments.ts';
import type { BenchCellSpec } from './cell.ts';
import type { StepResult } from './runner.ts';
import type { SaturationCriteria } from './saturation.ts';
import { round } from './stats.ts';
import type { TimelinePoint } from './window.ts';

/** Parses "0.5,2,0.5" into load multiples (each > 0); throws RangeError on anything else. */
export function parseSteps(text: string): number[] {
  const loads = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (loads.length === 0 || loads.some((x) => !(x > 0) || !Number.isFinite(x))) throw new RangeError(`--steps must be a comma-separated list of numbers > 0, got "${text}"`);
  return loads;
}

export interface StepSummary {
  readonly load: number;
  readonly rate: number;
  readonly placements_per_s: number;
  readonly p99_ms: number;
  readonly p50_ms: number;
  readonly conflict_fraction: number;
  readonly retries_per_placement: number;
  readonly staleness_ms: number;
  readonly backlog_end: number;
  /** The largest resident set of any cell process at the end of the step (MB). */
  readonly rss_mb_max: number;
  /** After a load drop: seconds from the step's start until p99 stayed under the limit (null: never within the step). */
  readonly recovery_s?: number | null;
}

/**
 * Seconds from `startT` until every later timeline point of the step (up to `endT`) that finished
 * jobs had p99 < limit and the backlog no longer grew; null if the step ended before that.
 */
export function recoverySeconds(timeline: readonly TimelinePoint[], startT: number, endT: number, p99LimitMs: number): number | null {
  const pts = timeline.filter((p) => p.t > startT && p.t <= endT + 0.5);
  let recoveredAt: number | null = null;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i];
    const grew = i > 0 && p.backlog > pts[i - 1].backlog;
    const bad = (p.jobsFinished > 0 && p.delayP99Ms >= p99LimitMs) || (p.jobsFinished === 0 && p.backlog > 0) || grew;
    if (bad) recoveredAt = null;
    else recoveredAt ??= p.t;
  }
  return recoveredAt === null ? null : round(Math.max(0, recoveredAt - startT), 1);
}

export function stepSummary(load: number, s: StepResult, recovery?: number | null): StepSummary {
  const m = s.metrics;
  const cell = m.processes.filter((p) => p.kind !== 'bench' && p.kind !== 'loadgen');
  return {
    load, rate: round(s.rate, 3),
    placements_per_s: round(m.placementsPerS, 1),
    p99_ms: round(m.delayMs.p99, 1),
    p50_ms: round(m.delayMs.p50, 1),
    conflict_fraction: round(m.conflictFraction, 4),
    retries_per_placement: round(m.retriesPerPlacement, 3),
    staleness_ms: round(m.stalenessMs.mean, 1),
    backlog_end: m.backlog.end,
    rss_mb_max: round(Math.max(0, ...cell.map((p) => p.rssMb)), 1),
    ...(recovery !== undefined ? { recovery_s: recovery } : {}),
  };
}

export interface StepsOptions {
  readonly loads: readonly number[];
  readonly stepSeconds: number;
  readonly saturationRate?: number;
  readonly p99LimitMs: number;
  readonly criteria: SaturationCriteria;
  readonly search: { readonly start: number; readonly max: number; readonly probeSeconds: number };
}

export interface StepsResult {
  readonly saturationRate: number;
  readonly measuredSaturation: boolean;
  readonly steps: StepSummary[];
  readonly raw: StepResult[];
  readonly timeline: TimelinePoint[];
}

export async function runLoadSteps(spec: BenchCellSpec, w: WorkloadSpec, o: StepsOptions, log: Log): Promise<StepsResult> {
  let saturationRate = o.saturationRate;
  if (saturationRate === undefined) {
    const sat = await searchSaturation(spec, w, {
      start: o.search.start, min: Math.min(1, o.search.start), max: o.search.max, tolerance: 0.15, maxSteps: 6, extraThroughputSteps: 0,
      stepSeconds: o.search.probeSeconds, warmSeconds: Math.min(4, o.search.probeSeconds / 3), criteria: o.criteria,
    }, log);
    saturationRate = sat.saturationRate > 0 ? sat.saturationRate : sat.throughputSaturationRate;
    if (!(saturationRate > 0)) throw new Error(`no saturation rate found (${sat.why}); give one with --saturation-rate`);
  }
  const rate = saturationRate;
  log(`== steps ${o.loads.join(', ')} × ${rate.toFixed(2)} jobs/s, ${o.stepSeconds} s each, ${spec.mode} ×${spec.schedulers}`);
  // The window of a step leaves out its first quarter (≤ 5 s): the cell settles at the new rate.
  const warm = Math.min(5, o.stepSeconds / 4);
  const run = await runOnFreshCell(`steps-${spec.mode}`, spec, w, o.loads.map((l) => ({ label: `${l}×`, rate: l * rate, seconds: o.stepSeconds, warmSeconds: warm })), log, { criteria: o.criteria, crossCheck: false });
  const steps = run.steps.map((s, i) => {
    const dropped = i > 0 && o.loads[i] < o.loads[i - 1];
    const start = i * o.stepSeconds;
    return stepSummary(o.loads[i], s, dropped ? recoverySeconds(run.timeline, start, start + o.stepSeconds, o.p99LimitMs) : undefined);
  });
  return { saturationRate: rate, measuredSaturation: o.saturationRate === undefined, steps, raw: run.steps, timeline: run.timeline };
}
