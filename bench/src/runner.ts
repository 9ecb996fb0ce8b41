/**
 * Runs load steps against a cell: sets the load generator's rate, scrapes every `scrapeMs`, and
 * turns each step's measured window (after a warm-up) into WindowMetrics, plus a continuous
 * timeline (delay over time) across the steps.
 */
import type { BenchCell } from './cell.ts';
import type { Scrape } from './scrape.ts';
import { judgeStep, type SaturationCriteria, type StepVerdict } from './saturation.ts';
import { timelinePoint, windowMetrics, type TimelinePoint, type WindowMetrics } from './window.ts';

export interface StepPlan {
  readonly label: string;
  /** Offered jobs/s. */
  readonly rate: number;
  readonly seconds: number;
  /** Left out of the step's window (the system settles at the new rate). */
  readonly warmSeconds: number;
  /** Start the job sequence over at this step (saturation probes: every probe offers the same jobs). */
  readonly restartSequence?: boolean;
}

export interface StepResult {
  readonly label: string;
  readonly rate: number;
  readonly metrics: WindowMetrics;
  readonly verdict: StepVerdict;
}

export interface RunOptions {
  readonly scrapeMs?: number;
  readonly criteria?: SaturationCriteria;
  readonly log?: (line: string) => void;
}

const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - performance.now())));

export function describeStep(r: StepResult): string {
  const m = r.metrics;
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const top = [...m.processes].filter((p) => p.kind !== 'bench').sort((a, b) => b.cpuCores - a.cpuCores).slice(0, 3).map((p) => `${p.name} ${f(p.cpuCores, 2)}`).join(', ');
  return `${r.label.padEnd(10)} rate ${f(r.rate, 1).padStart(6)} jobs/s → ${f(m.placementsPerS).padStart(6)} placements/s, jobs ${m.jobsFinished}, delay p50/p90/p99 ${f(m.delayMs.p50)}/${f(m.delayMs.p90)}/${f(m.delayMs.p99)} ms, `
    + `conflicts ${f(m.conflictFraction * 100, 2)}%, retries/placement ${f(m.retriesPerPlacement, 3)}, backlog ${f(m.backlog.end)} (slope ${f(m.backlog.slopePerS, 1)}/s), work lag ${f(m.workLagS, 1)} s, `
    + `cpu [${top}], others ${f(m.machine.otherCores, 2)} cores${r.verdict.ok ? '' : `  ✗ ${r.verdict.reasons.join('; ')}`}`;
}

/** Runs `steps` back to back; the timeline's t = 0 is the start of the first step. */
export async function runSteps(cell: BenchCell, steps: readonly StepPlan[], o: RunOptions = {}): Promise<{ steps: StepResult[]; timeline: TimelinePoint[] }> {
  const scrapeMs = o.scrapeMs ?? 1000;
  const gen = cell.loadgen;
  if (gen === undefined) throw new Error('runSteps: the cell has no load generator');
  const results: StepResult[] = [];
  const timeline: TimelinePoint[] = [];
  let prev: Scrape = await cell.scrape();
  const origin = prev.t;
  for (const step of steps) {
    if (step.restartSequence === true) gen.restart(step.rate);
    else gen.setRate(step.rate);
    const start = performance.now();
    const warmEnd = start + step.warmSeconds * 1000;
    const end = start + step.seconds * 1000;
    let windowStart: Scrape | undefined = step.warmSeconds <= 0 ? prev : undefined;
    const inWindow: Scrape[] = [];
    let next = start + scrapeMs;
    for (;;) {
      await sleepUntil(Math.min(next, end));
      const s = await cell.scrape();
      timeline.push(timelinePoint(prev, s, origin, step.rate));
      prev = s;
      // The window starts at the first scrape after the warm-up (on the scrape grid).
      if (windowStart === undefined && s.t >= warmEnd - 5) windowStart = s;
      else if (windowStart !== undefined) inWindow.push(s);
      if (s.t >= end - 5) break;
      next += scrapeMs;
      while (next < performance.now()) next += scrapeMs;
    }
    const a = windowStart ?? prev;
    const metrics = windowMetrics(a, prev, inWindow, cell.cores, cell.ticks);
    const verdict = judgeStep({
      rate: step.rate, backlogSlope: metrics.backlog.slopePerS, backlogEnd: metrics.backlog.end, p99Ms: metrics.delayMs.p99,
      generatorBehind: metrics.generator.late, jobsFinished: metrics.jobsFinished, workLagS: metrics.workLagS,
    }, o.criteria);
    const r: StepResult = { label: step.label, rate: step.rate, metrics, verdict };
    o.log?.(describeStep(r));
    results.push(r);
  }
  return { steps: results, timeline };
}
