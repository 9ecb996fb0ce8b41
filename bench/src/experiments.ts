/**
 * The experiments built from cells, the load generator and load steps: one run of steps on a
 * fresh cell (with the exact-delay cross-check), and the saturation search.
 */
import { BenchCell, type BenchCellSpec } from './cell.ts';
import { listingBatches, summariseDelayCheck, type DelayCheck } from './delay-check.ts';
import { Loadgen } from './loadgen-client.ts';
import type { LoadgenConfig } from './loadgen-messages.ts';
import { runSteps, type StepPlan, type StepResult } from './runner.ts';
import { DEFAULT_CRITERIA, nextProbe, type SaturationCriteria, type SearchOptions } from './saturation.ts';
import type { TimelinePoint } from './window.ts';

export interface WorkloadSpec {
  readonly seed: string;
  /** Sampler trace (default alibaba2017) … */
  readonly samplerTrace?: string;
  /** … or a trace replayed time-compressed. */
  readonly replayTrace?: string;
  readonly speed?: number;
  readonly sampleEvery: number;
}

export interface CellRun {
  readonly label: string;
  readonly spec: BenchCellSpec;
  readonly startSeconds: number;
  readonly readySeconds: number;
  readonly steps: StepResult[];
  readonly timeline: TimelinePoint[];
  readonly delayCheck?: DelayCheck;
  readonly loadgen: { readonly source: string; readonly meanTasksPerJob: number; readonly loadMs: number };
}

export type Log = (line: string) => void;

let cellCounter = 0;
/** Cell names are unique per process (streams and subjects are named after them). */
export function cellName(label: string): string {
  return `b${process.pid}x${cellCounter++}-${label.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24)}`;
}

export async function startLoadedCell(label: string, spec: BenchCellSpec, w: WorkloadSpec, log: Log): Promise<{ cell: BenchCell; readySeconds: number; gen: CellRun['loadgen'] }> {
  const name = cellName(label);
  log(`[${label}] starting ${spec.nodes} nodes, ${spec.schedulers} scheduler(s), ${spec.partitions} partitions, mode ${spec.mode}, time scale ${spec.timeScale}`);
  const cell = await BenchCell.start(name, spec);
  try {
    const readySeconds = await cell.waitSchedulersReady();
    const cfg: Omit<LoadgenConfig, 't'> = {
      natsUrl: cell.natsUrl, natsCredentials: cell.credentials, cell: name, seed: w.seed, idPrefix: `${label}-`, sampleEvery: w.sampleEvery,
      ...(w.samplerTrace !== undefined ? { samplerTrace: w.samplerTrace } : {}),
      ...(w.replayTrace !== undefined ? { replayTrace: w.replayTrace, speed: w.speed ?? 1 } : {}),
    };
    cell.loadgen = await Loadgen.start(cfg);
    const r = await cell.loadgen.ready;
    log(`[${label}] up in ${cell.startSeconds.toFixed(1)} s (+${readySeconds.toFixed(1)} s until every scheduler saw every node); generator loaded ${r.jobs} jobs from ${r.source.split('/').pop()} in ${(r.loadMs / 1000).toFixed(1)} s`);
    return { cell, readySeconds, gen: { source: r.source, meanTasksPerJob: r.meanTasksPerJob, loadMs: r.loadMs } };
  } catch (e) {
    await cell.stop().catch(() => undefined);
    throw e;
  }
}

/**
 * Exact delays of the sampled jobs, asked once the load stopped: waits up to `drainS` for the
 * stream to drain, then lists as many sampled jobs as fit in `listS` (an overloaded cell answers
 * slowly, and the comparison has a time budget).
 */
export async function crossCheck(cell: BenchCell, log: Log, drainS = 8, listS = 6): Promise<DelayCheck | undefined> {
  const gen = cell.loadgen;
  if (gen === undefined) return undefined;
  gen.pause();
  await cell.waitDrained(drainS * 1000);
  const subs = gen.takeSampled();
  if (subs.length === 0) return undefined;
  const deadline = performance.now() + listS * 1000;
  const listed: Awaited<ReturnType<BenchCell['listedDelays']>> = [];
  for (const batch of listingBatches(subs)) {
    const left = deadline - performance.now();
    if (left < 200) break;
    listed.push(...(await cell.listedDelays([batch], left)));
  }
  const check = summariseDelayCheck(subs, listed);
  log(`  exact delays of ${check.all.n}/${check.sampled} sampled jobs (${check.unknownDelay} with placedAt = submittedAt left out, ${check.sampled - check.listed} not listed in time): p50 ${check.all.p50.toFixed(0)} ms, p99 ${check.all.p99.toFixed(0)} ms; `
    + check.byClass.filter((c) => c.delayMs.n > 0).map((c) => `${c.label}: n=${c.delayMs.n} p50 ${c.delayMs.p50.toFixed(0)} p99 ${c.delayMs.p99.toFixed(0)}`).join('; '));
  return check;
}

/** A fresh cell, the given steps, the cross-check, stop. */
export async function runOnFreshCell(
  label: string, spec: BenchCellSpec, w: WorkloadSpec, steps: readonly StepPlan[], log: Log,
  o: { readonly criteria?: SaturationCriteria; readonly crossCheck?: boolean } = {},
): Promise<CellRun> {
  const { cell, readySeconds, gen } = await startLoadedCell(label, spec, w, log);
  try {
    const r = await runSteps(cell, steps, { log: (l) => log(`  ${l}`), ...(o.criteria ? { criteria: o.criteria } : {}) });
    const delayCheck = o.crossCheck === false ? undefined : await crossCheck(cell, log);
    return { label, spec, startSeconds: cell.startSeconds, readySeconds, steps: r.steps, timeline: r.timeline, ...(delayCheck ? { delayCheck } : {}), loadgen: gen };
  } finally {
    await cell.stop();
  }
}

export interface SaturationResult {
  /** The brief's definition: highest rate with a bounded queue and p99 delay under the limit (0: none). */
  readonly saturationRate: number;
  /** Highest rate with a bounded queue only (whatever the delay). */
  readonly throughputSaturationRate: number;
  readonly criteria: SaturationCriteria;
  readonly probes: { readonly rate: number; readonly ok: boolean; readonly queueOk: boolean; readonly reasons: readonly string[]; readonly step: StepResult }[];
  readonly why: string;
  readonly whyThroughput: string;
  readonly seconds: number;
}

export interface SaturationOptions extends SearchOptions {
  /** Probes allowed on top of `maxSteps` for the throughput-only search. Default 3. */
  readonly extraThroughputSteps?: number;
  readonly stepSeconds: number;
  readonly warmSeconds: number;
  readonly criteria?: SaturationCriteria;
}

/**
 * Doubling then bisection (saturation.ts), one short step per probe. After a probe that kept up
 * the stream is drained and the same cell probes again; after one that did not, the backlog (and
 * the tasks it would place) would distort the next probe, so the cell is replaced.
 * Two searches share the probes: the brief's criterion (queue bounded and p99 < limit) and the
 * throughput-only one (queue bounded); the second goes on from where the first stopped.
 */
export async function searchSaturation(spec: BenchCellSpec, w: WorkloadSpec, o: SaturationOptions, log: Log): Promise<SaturationResult> {
  const t0 = performance.now();
  const criteria = o.criteria ?? DEFAULT_CRITERIA;
  const probes: SaturationResult['probes'][number][] = [];
  let current: Awaited<ReturnType<typeof startLoadedCell>> | undefined;
  const probe = async (rate: number) => {
    current ??= await startLoadedCell('saturation', spec, w, log);
    // Every probe offers the same jobs (the sequence starts over), only faster or slower: with
    // heavy-tailed job sizes, probes drawing different jobs would differ more by luck than by rate.
    const { steps } = await runSteps(current.cell, [{ label: `probe`, rate, seconds: o.stepSeconds, warmSeconds: o.warmSeconds, restartSequence: true }], { log: (l) => log(`  ${l}`), criteria });
    const step = steps[0];
    const reasons = step.verdict.reasons;
    // "Queue bounded" = every reason but the p99 one (jobs backlog, work lag, generator).
    const queueOk = !reasons.some((r) => !r.startsWith('p99'));
    probes.push({ rate, ok: step.verdict.ok, queueOk, reasons, step });
    current.cell.loadgen?.pause();
    const drained = queueOk && (await current.cell.waitDrained(20_000));
    if (!drained) {
      await current.cell.stop();
      current = undefined;
    }
  };
  try {
    let full: ReturnType<typeof nextProbe>;
    for (;;) {
      full = nextProbe(probes.map((p) => ({ rate: p.rate, ok: p.ok })), o);
      if (full.kind === 'done') break;
      await probe(full.rate);
    }
    log(`  saturation (queue bounded, p99 < ${criteria.p99LimitMs} ms): ${full.saturation.toFixed(1)} jobs/s — ${full.why}`);
    // Throughput only: continue with the probes so far judged on the queue alone.
    const budget = (o.maxSteps ?? 8) + (o.extraThroughputSteps ?? 3);
    let tp: ReturnType<typeof nextProbe>;
    for (;;) {
      tp = nextProbe(probes.map((p) => ({ rate: p.rate, ok: p.queueOk })), { ...o, maxSteps: budget });
      if (tp.kind === 'done') break;
      await probe(tp.rate);
    }
    log(`  saturation (queue bounded only): ${tp.saturation.toFixed(1)} jobs/s — ${tp.why}`);
    return {
      saturationRate: full.saturation, throughputSaturationRate: tp.saturation, criteria, probes, why: full.why, whyThroughput: tp.why,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    const c = current as Awaited<ReturnType<typeof startLoadedCell>> | undefined;
    if (c !== undefined) await c.cell.stop();
  }
}
