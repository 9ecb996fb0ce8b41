/**
 * `npm run bench -- --compare`: every mode side by side in one invocation on the same workload
 * (same seed: the same jobs in the same order), in this order:
 *   1. the transport baseline (NATS request/reply of batched records between two processes);
 *   2. the saturation search with latency-first and K schedulers;
 *   3. the load profile 50 → 80 → 95 → 80 → 50 % of that saturation rate, on a fresh cell per
 *      mode: a single scheduler, state-sync ×K, latency-first ×K, quality-first ×K, adaptive ×K;
 *   4. conflicts vs K (1, 2, 4, 8) at 80 %, latency-first and state-sync (K's own runs reused).
 * A deadline keeps the whole under `budgetS`; parts that would not fit are skipped and listed.
 */
import type { NodeShape } from '@tessera/launcher';
import { startNatsServer } from '@tessera/testkit';
import type { BenchCellSpec } from './cell.ts';
import { runOnFreshCell, searchSaturation, type CellRun, type Log, type SaturationResult, type WorkloadSpec } from './experiments.ts';
import type { StepPlan } from './runner.ts';
import { measureTransport, type TransportResult } from './transport.ts';

export interface CompareOptions {
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly shape: NodeShape;
  readonly timeScale: number;
  readonly workload: WorkloadSpec;
  readonly stepSeconds: number;
  readonly warmSeconds: number;
  readonly probeSeconds: number;
  readonly probeWarmSeconds: number;
  readonly conflictSeconds: number;
  readonly search: { readonly start: number; readonly min: number; readonly max: number; readonly tolerance: number; readonly maxSteps: number; readonly extraThroughputSteps: number };
  readonly p99LimitMs: number;
  readonly ks: readonly number[];
  /** Run state-sync with one scheduler too (nothing to conflict with; off by default to save time). */
  readonly stateSyncK1?: boolean;
  readonly budgetS: number;
  readonly transportSeconds: number;
  /** Skip the search and use this rate as the saturation rate (for quick runs). */
  readonly saturationRate?: number;
}

export interface ModeSpec {
  readonly label: string;
  readonly mode: string;
  readonly schedulers: number;
}

export interface ConflictPoint {
  readonly k: number;
  readonly mode: string;
  readonly rate: number;
  readonly source: string;
  readonly conflictFraction: number;
  readonly retriesPerPlacement: number;
  readonly placementsPerS: number;
  readonly delayP99Ms: number;
  readonly stalenessMeanMs: number;
}

export interface CompareResult {
  readonly transport: TransportResult[];
  readonly saturation?: SaturationResult;
  /** The rate the load profile is relative to, and where it came from. */
  readonly referenceRate: number;
  readonly referenceSource: string;
  /** The rate conflicts vs K are measured at (80% of the throughput saturation), and why. */
  readonly conflictRate?: number;
  readonly conflictRateSource?: string;
  readonly modes: CellRun[];
  readonly conflicts: ConflictPoint[];
  readonly skipped: string[];
  /** Parts that failed (a cell that did not start, a service that died), with the error. */
  readonly failures: string[];
  readonly seconds: number;
}

export const LOAD_PROFILE = [0.5, 0.8, 0.95, 0.8, 0.5] as const;

export function modeSpecs(k: number): ModeSpec[] {
  return [
    { label: 'single', mode: 'latency-first', schedulers: 1 },
    { label: 'state-sync', mode: 'state-sync', schedulers: k },
    { label: 'latency-first', mode: 'latency-first', schedulers: k },
    { label: 'quality-first', mode: 'quality-first', schedulers: k },
    { label: 'adaptive', mode: 'adaptive', schedulers: k },
  ];
}

export function loadProfile(rate: number, seconds: number, warmSeconds: number): StepPlan[] {
  return LOAD_PROFILE.map((f) => ({ label: `${Math.round(f * 100)}%`, rate: Math.max(0.1, rate * f), seconds, warmSeconds }));
}

function conflictPoint(k: number, mode: string, source: string, run: CellRun, stepIndex: number): ConflictPoint {
  const s = run.steps[stepIndex];
  return {
    k, mode, rate: s.rate, source, conflictFraction: s.metrics.conflictFraction, retriesPerPlacement: s.metrics.retriesPerPlacement,
    placementsPerS: s.metrics.placementsPerS, delayP99Ms: s.metrics.delayMs.p99, stalenessMeanMs: s.metrics.stalenessMs.mean,
  };
}

export async function runCompare(o: CompareOptions, log: Log): Promise<CompareResult> {
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const skipped: string[] = [];
  const failures: string[] = [];
  /** Runs one part; a failure is recorded and the comparison goes on with the next part. */
  const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      const msg = `${what}: ${(e as Error).message.split('\n')[0]}`;
      failures.push(msg);
      log(`  FAILED ${msg}`);
      return undefined;
    }
  };
  const cellSpec = (mode: string, schedulers: number): BenchCellSpec => ({
    nodes: o.nodes, schedulers, partitions: o.partitions, mode, timeScale: o.timeScale, nodeShape: o.shape,
  });
  const criteria = { p99LimitMs: o.p99LimitMs, slopeFraction: 0.1, backlogSeconds: 2, workLagSeconds: 3 };

  // 1. Transport baseline, on its own nats-server before any cell runs.
  log('== transport baseline (NATS request/reply, 1 000 records of ~100 bytes per request, 4 in flight)');
  const transport: TransportResult[] = [];
  const nats = await startNatsServer();
  try {
    for (const mode of ['raw', 'validated'] as const) {
      const r = await measureTransport({ natsUrl: nats.url, mode, recordsPerRequest: 1000, window: 4, seconds: o.transportSeconds });
      transport.push(r);
      log(`  ${mode.padEnd(9)} ${Math.round(r.recordsPerS)} records/s (${r.requestsPerS.toFixed(0)} requests/s, ${r.mbPerS.toFixed(1)} MB/s, p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms)`);
    }
  } finally {
    await nats.stop();
  }

  // 2. Saturation.
  let saturation: SaturationResult | undefined;
  let referenceRate: number;
  let referenceSource: string;
  if (o.saturationRate !== undefined) {
    referenceRate = o.saturationRate;
    referenceSource = 'given with --saturation-rate (no search)';
  } else {
    log(`== saturation search: latency-first ×${o.schedulers}, ${o.probeSeconds} s probes (${o.probeWarmSeconds} s warm-up)`);
    saturation = await attempt('saturation search', () => searchSaturation(cellSpec('latency-first', o.schedulers), o.workload, {
      ...o.search, stepSeconds: o.probeSeconds, warmSeconds: o.probeWarmSeconds, criteria,
    }, log));
    if (saturation === undefined) {
      referenceRate = o.search.start;
      referenceSource = `the search's first rate (${o.search.start} jobs/s): the search failed`;
    } else if (saturation.saturationRate > 0) {
      referenceRate = saturation.saturationRate;
      referenceSource = `saturation (queue bounded and p99 < ${o.p99LimitMs} ms)`;
    } else {
      referenceRate = saturation.throughputSaturationRate;
      referenceSource = `throughput saturation (queue bounded; p99 stayed ≥ ${o.p99LimitMs} ms even at the lowest rate probed)`;
    }
    if (!(referenceRate > 0)) {
      referenceRate = o.search.min;
      referenceSource = `the search's minimum rate (${o.search.min} jobs/s): the cell did not keep up even there`;
    }
  }
  log(`== reference rate ${referenceRate.toFixed(2)} jobs/s: ${referenceSource}`);

  // 3. Modes.
  const modes: CellRun[] = [];
  const steps = loadProfile(referenceRate, o.stepSeconds, o.warmSeconds);
  // Start-up, drain, cross-check and stop cost about 30 s on top of the steps; the first mode's
  // actual duration replaces the estimate.
  let perModeS = o.stepSeconds * steps.length + 30;
  for (const m of modeSpecs(o.schedulers)) {
    if (elapsed() + perModeS > o.budgetS) {
      skipped.push(`mode ${m.label}: would not fit in the ${o.budgetS} s budget`);
      continue;
    }
    log(`== ${m.label} (${m.mode} ×${m.schedulers}): ${steps.map((s) => `${s.label} ${s.rate.toFixed(1)}`).join(' → ')} jobs/s, ${o.stepSeconds} s each`);
    const t = elapsed();
    const run = await attempt(`mode ${m.label}`, () => runOnFreshCell(m.label, cellSpec(m.mode, m.schedulers), o.workload, steps, log, { criteria }));
    if (run !== undefined) {
      modes.push(run);
      perModeS = Math.max(perModeS, elapsed() - t);
    }
  }

  // 4. Conflicts vs K at 80 %.
  // Conflicts need a busy cell: measure them at 80% of the *throughput* saturation (queue bounded),
  // which on a slow or shared machine is well above the p99-bounded one. When that is the
  // reference rate anyway, the mode runs' first 80% steps are reused.
  const conflicts: ConflictPoint[] = [];
  const at80 = steps.findIndex((s) => s.label === '80%');
  const throughput = saturation?.throughputSaturationRate ?? 0;
  const rate80 = throughput > 0 ? 0.8 * throughput : steps[at80].rate;
  const conflictRateSource = throughput > 0 ? `80% of the throughput saturation (${throughput.toFixed(2)} jobs/s, queue bounded)` : `80% of the reference rate`;
  const reusable = Math.abs(rate80 - steps[at80].rate) < 1e-9;
  log(`== conflicts vs K at ${rate80.toFixed(2)} jobs/s: ${conflictRateSource}`);
  let perPointS = o.conflictSeconds + 30;
  for (const k of o.ks) {
    for (const mode of ['latency-first', 'state-sync']) {
      if (k === 1 && mode === 'state-sync' && o.stateSyncK1 !== true) continue;
      const reuse = reusable ? modes.find((r) => r.spec.schedulers === k && r.spec.mode === mode && (r.label === mode || (k === 1 && r.label === 'single'))) : undefined;
      if (reuse !== undefined) {
        conflicts.push(conflictPoint(k, mode, `${reuse.label} run, first 80% step`, reuse, at80));
        continue;
      }
      if (elapsed() + perPointS > o.budgetS) {
        skipped.push(`conflicts at K=${k} ${mode}: would not fit in the ${o.budgetS} s budget`);
        continue;
      }
      log(`== conflicts: ${mode} ×${k} at ${rate80.toFixed(1)} jobs/s (80%)`);
      const t = elapsed();
      const run = await attempt(`conflicts at K=${k} ${mode}`, () => runOnFreshCell(`k${k}-${mode}`, cellSpec(mode, k), o.workload, [{ label: '80%', rate: rate80, seconds: o.conflictSeconds, warmSeconds: o.warmSeconds }], log, { criteria, crossCheck: false }));
      if (run === undefined) continue;
      perPointS = Math.max(perPointS, elapsed() - t);
      conflicts.push(conflictPoint(k, mode, 'own run', run, 0));
    }
  }
  return { transport, ...(saturation ? { saturation } : {}), referenceRate, referenceSource, conflictRate: rate80, conflictRateSource, modes, conflicts, skipped, failures, seconds: elapsed() };
}
