/**
 * `npm run experiments [-- --only a,b,c,d] [--workers 2]`: runs the simulator experiments of
 * docs/experiments.md and writes their figures as SVG to docs/plots/ (via @tessera/plots) and as
 * JSON to docs/results/. Outputs are pure functions of the code and the bundled traces (wall-clock
 * times only go to the log), so re-running changes a file only when a result changes.
 *
 * Common setup (unless an experiment says otherwise): alibaba2017's 1,313 machines; Poisson
 * arrivals of jobs resampled from the alibaba2017 trace (whole jobs: task groups, instance counts,
 * requests, run times) at a target load of the bottleneck resource (memory); run times capped at
 * 300 s so a run reaches steady state quickly; arrivals for 600 s, the first 240 s a warm-up left
 * out of the figures; N = 8 schedulers, P = 32 partitions, G = 1 s, fine-grained conflicts,
 * binpack, seed 1; no job is ever given up (no wait or conflict limit), so every mode places the
 * same jobs and delays compare like with like. All runs of an experiment see the same arrivals (same seed), so modes and
 * parameters are compared on identical work.
 */
import { cpus } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, lineChart, writeSvg, type Series } from '@tessera/plots';
import type { PlacementMode } from '@tessera/policy';
import type { RunOptions } from '../run.ts';
import type { Summary } from '../summary.ts';
import type { LoadStep } from '../workload.ts';
import { analyticGrid, expectedConflictsPerSlot } from './analytic.ts';
import { runAll, type PoolRun } from './pool.ts';
import { experimentFairness } from './fairness.ts';
import { experimentFgd, experimentFgdParallel } from './fgd.ts';
import { experimentPreemption } from './preemption.ts';

const DOCS = fileURLToPath(new URL('../../../../docs/', import.meta.url));
const PLOTS = join(DOCS, 'plots');
const RESULTS = join(DOCS, 'results');

export const BASE: RunOptions = Object.freeze({
  load: 0.8,
  schedulers: 8,
  partitions: 32,
  syncIntervalMs: 1000,
  granularity: 'fine',
  mode: 'latency-first',
  seed: 1,
  arrivalWindowS: 600,
  warmupS: 240,
  maxTaskDurationS: 300,
  // No job is given up: a mode that drops the jobs it keeps conflicting on would look faster.
  retry: { maxWaitMs: Infinity, conflictWindowMs: Infinity },
});

const MODES: readonly PlacementMode[] = ['state-sync', 'latency-first', 'quality-first'];
const pct = (x: number) => Math.round(x * 100_000) / 1000;

type Log = (line: string) => void;

interface Context {
  readonly workers: number;
  readonly log: Log;
}

/** The figures of a run that experiments tabulate. */
function row(s: Summary, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    conflict_fraction: s.conflict_fraction,
    conflicts: s.conflicts,
    proposed_claims: s.proposed_claims,
    retries_per_placement: s.retries_per_placement,
    delay_ms: s.delay_ms,
    staleness_ms: s.staleness_ms,
    quality: s.quality,
    utilization: s.utilization,
    placements: s.placements,
    unschedulable: s.unschedulable,
    unschedulable_tasks: s.unschedulable_tasks,
    scheduler_busy: s.scheduler_busy,
  };
}

async function save(name: string, data: unknown): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`, 'utf8');
}

async function plot(name: string, svg: Promise<string>): Promise<void> {
  await writeSvg(join(PLOTS, `${name}.svg`), await svg);
}

function series(name: string, xs: readonly number[], ys: readonly number[]): Series {
  return { name, points: xs.map((x, i) => [x, ys[i]] as const) };
}

// ---- (a) conflicts and delay vs number of schedulers -------------------------------------------

const N_VALUES = [1, 2, 4, 8, 16];

async function experimentA(ctx: Context): Promise<void> {
  ctx.log('(a) conflict fraction and delay vs N schedulers, three modes, 80% load');
  const runs: PoolRun[] = [];
  for (const mode of MODES) for (const n of N_VALUES) runs.push({ label: `a ${mode} N=${n}`, options: { ...BASE, mode, schedulers: n } });
  const res = await runAll(runs, ctx.workers, ctx.log);
  const rows = runs.map((r, i) => row(res[i], { mode: r.options.mode, schedulers: r.options.schedulers }));
  await save('a-schedulers', { setup: BASE, varied: { schedulers: N_VALUES, mode: MODES }, rows, summaries: res });
  const by = (mode: PlacementMode, f: (s: Summary) => number) => N_VALUES.map((_, j) => f(res[MODES.indexOf(mode) * N_VALUES.length + j]));
  const sub = 'alibaba2017, 1,313 machines, 80% load, P = 32, G = 1 s, fine conflicts';
  await plot('a-conflicts', lineChart({
    title: '(a) Conflict fraction vs schedulers', subtitle: sub, xLabel: 'schedulers N', yLabel: 'refused / proposed claims (%)', logX: true,
    series: MODES.map((m) => series(m, N_VALUES, by(m, (s) => pct(s.conflict_fraction)))),
  }));
  await plot('a-delay', lineChart({
    title: '(a) Job delay (submit → all tasks committed) vs schedulers', subtitle: sub, xLabel: 'schedulers N', yLabel: 'delay (ms, log)', logX: true, logY: true,
    series: MODES.flatMap((m) => [series(`${m} p50`, N_VALUES, by(m, (s) => s.delay_ms.p50)), series(`${m} p90`, N_VALUES, by(m, (s) => s.delay_ms.p90))]),
  }));
  await plot('a-quality', lineChart({
    title: '(a) Placement quality vs schedulers', subtitle: `${sub}; binpack score / best of 8 random feasible nodes, fresh state`, xLabel: 'schedulers N', yLabel: 'quality (1 = best)', logX: true,
    series: MODES.map((m) => series(m, N_VALUES, by(m, (s) => s.quality))),
  }));
}

// ---- (b) ParSync sensitivity -------------------------------------------------------------------

const LOADS = [0.4, 0.6, 0.7, 0.8, 0.9];
const SYNCS = [250, 500, 1000, 2000, 4000];
const PARTS = [8, 16, 32, 64, 128];
const BOUNDS: readonly { name: string; ms: number | undefined }[] = [
  { name: 'freshest only (G/P)', ms: 1000 / 32 },
  { name: 'G/4 (default)', ms: undefined },
  { name: 'G/2', ms: 500 },
  { name: 'unbounded', ms: Infinity },
];

async function experimentB(ctx: Context): Promise<void> {
  ctx.log('(b) ParSync sensitivity: arrival rate, sync interval G, partitions P, fallback bound');
  const runs: PoolRun[] = [];
  for (const mode of ['latency-first', 'state-sync'] as const) {
    for (const load of LOADS) runs.push({ label: `b load ${mode} ${load}`, options: { ...BASE, mode, load } });
    for (const g of SYNCS) runs.push({ label: `b G ${mode} ${g}`, options: { ...BASE, mode, syncIntervalMs: g } });
  }
  for (const p of PARTS) runs.push({ label: `b P latency-first ${p}`, options: { ...BASE, partitions: p } });
  for (const b of BOUNDS) runs.push({ label: `b bound ${b.name}`, options: { ...BASE, lfMaxStalenessMs: b.ms } });
  const res = await runAll(runs, ctx.workers, ctx.log);
  const pick = (pred: (r: PoolRun) => boolean) => res.filter((_, i) => pred(runs[i]));
  const lfLoad = pick((r) => r.label.startsWith('b load latency-first'));
  const ssLoad = pick((r) => r.label.startsWith('b load state-sync'));
  const lfG = pick((r) => r.label.startsWith('b G latency-first'));
  const ssG = pick((r) => r.label.startsWith('b G state-sync'));
  const lfP = pick((r) => r.label.startsWith('b P'));
  const bounds = pick((r) => r.label.startsWith('b bound'));
  const ssBase = ssLoad[LOADS.indexOf(0.8)];
  await save('b-sensitivity', {
    setup: BASE,
    load: LOADS.map((load, i) => ({ load, 'latency-first': row(lfLoad[i], {}), 'state-sync': row(ssLoad[i], {}) })),
    sync_interval_ms: SYNCS.map((g, i) => ({ g, 'latency-first': row(lfG[i], {}), 'state-sync': row(ssG[i], {}) })),
    partitions: PARTS.map((p, i) => ({ p, 'latency-first': row(lfP[i], {}) })),
    latency_first_fallback_bound: BOUNDS.map((b, i) => ({ bound: b.name, ms: b.ms === undefined ? 'default' : String(b.ms), ...row(bounds[i], {}), by_freshness_rank: bounds[i].by_freshness_rank })),
  });
  const sub = 'alibaba2017, 1,313 machines, N = 8';
  await plot('b-load', lineChart({
    title: '(b) Conflict fraction vs offered load', subtitle: `${sub}, P = 32, G = 1 s`, xLabel: 'offered load (bottleneck resource)', yLabel: 'refused / proposed claims (%)',
    series: [series('latency-first', LOADS, lfLoad.map((s) => pct(s.conflict_fraction))), series('state-sync', LOADS, ssLoad.map((s) => pct(s.conflict_fraction)))],
  }));
  await plot('b-load-delay', lineChart({
    title: '(b) Job delay vs offered load', subtitle: `${sub}, P = 32, G = 1 s`, xLabel: 'offered load (bottleneck resource)', yLabel: 'delay (ms, log)', logY: true,
    series: [
      series('latency-first p50', LOADS, lfLoad.map((s) => s.delay_ms.p50)), series('latency-first p90', LOADS, lfLoad.map((s) => s.delay_ms.p90)),
      series('state-sync p50', LOADS, ssLoad.map((s) => s.delay_ms.p50)), series('state-sync p90', LOADS, ssLoad.map((s) => s.delay_ms.p90)),
    ],
  }));
  await plot('b-sync', lineChart({
    title: '(b) Conflict fraction vs sync interval G', subtitle: `${sub}, 80% load, P = 32`, xLabel: 'G (ms): every partition refreshed once per G', yLabel: 'refused / proposed claims (%)', logX: true,
    series: [series('latency-first', SYNCS, lfG.map((s) => pct(s.conflict_fraction))), series('state-sync', SYNCS, ssG.map((s) => pct(s.conflict_fraction)))],
  }));
  await plot('b-sync-staleness', lineChart({
    title: '(b) Staleness behind chosen nodes vs G', subtitle: `${sub}, 80% load, P = 32`, xLabel: 'G (ms)', yLabel: 'mean staleness at commit (ms, log)', logX: true, logY: true,
    series: [series('latency-first', SYNCS, lfG.map((s) => s.staleness_ms.mean)), series('state-sync', SYNCS, ssG.map((s) => s.staleness_ms.mean))],
  }));
  await plot('b-partitions', lineChart({
    title: '(b) Conflict fraction vs partitions P (latency-first)', subtitle: `${sub}, 80% load, G = 1 s; state-sync does not depend on P`, xLabel: 'partitions P', yLabel: 'refused / proposed claims (%)', logX: true,
    series: [series('latency-first', PARTS, lfP.map((s) => pct(s.conflict_fraction))), series('state-sync (P-independent)', PARTS, PARTS.map(() => pct(ssBase.conflict_fraction)))],
  }));
  await plot('b-fallback-bound', barChart({
    title: '(b) Latency-first fallback bound: conflicts and delay', subtitle: `${sub}, 80% load, P = 32, G = 1 s`, xLabel: 'fallback to partitions at most this stale', yLabel: 'conflicts (%) · delay p50 (100 ms)',
    series: [
      { name: 'conflict fraction (%)', points: BOUNDS.map((b, i) => [b.name, pct(bounds[i].conflict_fraction)] as const) },
      { name: 'delay p50 (100 ms)', points: BOUNDS.map((b, i) => [b.name, bounds[i].delay_ms.p50 / 100] as const) },
    ],
  }));
}

// ---- (c) load step ----------------------------------------------------------------------------

const STEP_S = 300;
export const LOAD_STEPS: readonly LoadStep[] = [0.5, 0.8, 0.95, 0.8, 0.5].map((load, i) => ({ fromS: i * STEP_S, load }));
const C_MODES: readonly PlacementMode[] = ['state-sync', 'latency-first', 'quality-first', 'adaptive'];

async function experimentC(ctx: Context): Promise<void> {
  ctx.log('(c) load step 50% → 80% → 95% → 80% → 50%, delay over time per mode');
  const bucket = 30;
  const runs: PoolRun[] = C_MODES.map((mode) => ({
    label: `c ${mode}`,
    options: { ...BASE, mode, load: LOAD_STEPS, arrivalWindowS: LOAD_STEPS.length * STEP_S, warmupS: 0, timelineBucketS: bucket },
  }));
  const res = await runAll(runs, ctx.workers, ctx.log);
  await save('c-load-step', {
    setup: { ...BASE, load: LOAD_STEPS, arrivalWindowS: LOAD_STEPS.length * STEP_S, warmupS: 0, timelineBucketS: bucket },
    rows: C_MODES.map((mode, i) => row(res[i], { mode })),
    timelines: Object.fromEntries(C_MODES.map((mode, i) => [mode, res[i].timeline])),
    mode_rounds: Object.fromEntries(C_MODES.map((mode, i) => [mode, res[i].mode_rounds])),
  });
  const end = LOAD_STEPS.length * STEP_S;
  const tl = (i: number, f: (r: NonNullable<Summary['timeline']>[number]) => number): Series['points'] =>
    (res[i].timeline ?? []).filter((r) => r.t_s < end && r.jobs > 0).map((r) => [r.t_s + bucket / 2, f(r)] as const);
  const sub = 'alibaba2017, 1,313 machines, N = 8, P = 32, G = 1 s; offered load 50/80/95/80/50% for 300 s each; 30 s buckets by submit time';
  await plot('c-delay-p50', lineChart({
    title: '(c) Median job delay over a load step', subtitle: sub, xLabel: 'submit time (s)', yLabel: 'delay p50 (ms, log)', logY: true,
    series: C_MODES.map((m, i) => ({ name: m, points: tl(i, (r) => r.delay_p50_ms) })),
  }));
  await plot('c-delay-p99', lineChart({
    title: '(c) p99 job delay over a load step', subtitle: sub, xLabel: 'submit time (s)', yLabel: 'delay p99 (ms, log)', logY: true,
    series: C_MODES.map((m, i) => ({ name: m, points: tl(i, (r) => r.delay_p99_ms) })),
  }));
  await plot('c-conflicts', lineChart({
    title: '(c) Conflict fraction over a load step', subtitle: sub, xLabel: 'submit time (s)', yLabel: 'refused / proposed claims (%)',
    series: C_MODES.map((m, i) => ({ name: m, points: tl(i, (r) => pct(r.conflict_fraction)) })),
  }));
  await plot('c-utilization', lineChart({
    title: '(c) Utilization over a load step', subtitle: sub, xLabel: 'time (s)', yLabel: 'allocated / capacity, bottleneck (%)',
    series: [
      { name: 'offered load', points: LOAD_STEPS.flatMap((s) => [[s.fromS, s.load * 100], [s.fromS + STEP_S, s.load * 100]] as const) },
      ...C_MODES.map((m, i) => ({ name: m, points: tl(i, (r) => r.utilization * 100) })),
    ],
  }));
}

// ---- (d) analytical estimate ------------------------------------------------------------------

const D_SLOTS = 1000;
const D_N = [2, 4, 8, 16];
const D_KS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3];

async function experimentD(ctx: Context): Promise<void> {
  ctx.log('(d) one round of N schedulers × K tasks on S idle slots vs E(Y) = N·K/S − 1 + (1 − K/S)^N');
  const started = performance.now();
  const points = analyticGrid(D_SLOTS, D_N, D_KS, 20);
  ctx.log(`  ${points.length} points × 20 seeds in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  await save('d-analytic', { slots: D_SLOTS, formula: 'E(Y) = N·K/S − 1 + (1 − K/S)^N (conflicts per slot)', points });
  const fine = Array.from({ length: 31 }, (_, i) => (0.3 * i) / 30);
  await plot('d-analytic', lineChart({
    title: '(d) Conflicts per slot in one round: simulated vs ParSync\'s E(Y)', subtitle: `S = ${D_SLOTS} idle one-task slots, N schedulers × K uniform picks each, 20 seeds per point`,
    xLabel: 'K / S', yLabel: 'conflicts per slot E(Y)', markPoints: true,
    series: D_N.flatMap((n) => [
      { name: `E(Y), N = ${n}`, points: fine.map((f) => [f, expectedConflictsPerSlot(n, f * D_SLOTS, D_SLOTS)] as const) },
      { name: `simulated, N = ${n}`, points: points.filter((p) => p.schedulers === n).map((p) => [p.kOverS, p.simulatedMean] as const) },
    ]),
  }));
}

// ---- main -------------------------------------------------------------------------------------

// `fgd` (docs/fgd.md) runs only when asked for (--only fgd): it is long and has its own document.
const EXPERIMENTS: Record<string, (ctx: Context) => Promise<void>> = { a: experimentA, b: experimentB, c: experimentC, d: experimentD, fgd: experimentFgd, 'fgd-n': experimentFgdParallel, fairness: experimentFairness, preemption: experimentPreemption };
const DEFAULT_EXPERIMENTS = ['a', 'b', 'c', 'd'];

export async function main(argv: readonly string[]): Promise<number> {
  let only = DEFAULT_EXPERIMENTS;
  let workers = Math.min(2, cpus().length);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (argv[i] === '--workers') workers = Number(argv[++i]);
    else {
      process.stderr.write(`experiments: unknown argument ${argv[i]} (use --only a,b,c,d,fgd,fgd-n,fairness,preemption and --workers N)\n`);
      return 2;
    }
  }
  const unknown = only.filter((x) => !(x in EXPERIMENTS));
  if (unknown.length > 0 || only.length === 0 || !(Number.isInteger(workers) && workers >= 1)) {
    process.stderr.write(`experiments: --only takes a comma list of ${Object.keys(EXPERIMENTS).join(', ')}; --workers a positive integer\n`);
    return 2;
  }
  const log: Log = (line) => process.stdout.write(`${line}\n`);
  const started = performance.now();
  for (const name of only) await EXPERIMENTS[name]({ workers, log });
  log(`experiments ${only.join(', ')} done in ${((performance.now() - started) / 1000).toFixed(0)} s; figures in docs/plots, data in docs/results`);
  return 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`experiments: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
