/**
 * `npm run bench -- …`: the end-to-end benchmark of the real services (see docs/benchmark.md).
 *
 *   npm run bench -- [--nodes N] [--schedulers K] [--partitions P] [--mode M]
 *                    [--rate R | --workload TRACE --speed X] [--duration S] [--json] [--saturate]
 *   npm run bench -- --compare      every mode side by side, report + plots (< 15 min)
 *   npm run bench -- --scale        100 000 nodes, 8 schedulers: RSS and one-partition sync time
 *   npm run bench -- --profile      one load step with node --cpu-prof on every service
 *   npm run bench -- --report       rebuild docs/benchmark.md from the latest results
 *   npm run bench -- --small-jobs N [--nodes 100] [--schedulers K]   N single-task jobs at once: first submit → last commit
 *
 * Progress goes to stderr; the summary to stdout (with --json, its last line is the JSON summary).
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { REPO_ROOT } from '@tessera/launcher';
import { BUNDLED } from '@tessera/workloads';
import { BENCH_SECURITY, type BenchSecurity } from './cell.ts';
import { runCompare } from './compare.ts';
import { FAIRNESS_QUEUES, runFairness, writeFairnessDocs } from './fairness.ts';
import { runFgdServices } from './fgd-services.ts';
import { runPreemption } from './preemption.ts';
import type { GpuPolicy } from '@tessera/sim/fgd';
import { runOnFreshCell, searchSaturation, type WorkloadSpec } from './experiments.ts';
import { runProfile } from './profile-run.ts';
import { formatTop } from './profile.ts';
import { latestResults, machineFacts, RESULTS_DIR, stamp, writeResults, type ResultsFile, type Setup } from './results.ts';
import { writeCompareReport } from './report.ts';
import { describeStep } from './runner.ts';
import { runScale } from './scale.ts';
import { parseSteps, runLoadSteps } from './steps.ts';
import { runSmallJobs } from './small-jobs.ts';
import { jsonSummary } from './summary.ts';
import { cellCapacityOf, DEFAULT_SHAPE, loadDistribution, offeredUtilisation, timeScaleFor } from './workload.ts';

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number > 0`);
  return n;
};
const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be an integer ≥ 1`);
  return n;
};

const MODES = ['latency-first', 'quality-first', 'adaptive', 'state-sync'];

const program = new Command('bench')
  .description('Benchmark the real tessera services on loopback: throughput, delay, conflicts, CPU and memory')
  .addOption(new Option('--nodes <n>', 'simulated nodes').argParser(positiveInt('--nodes')))
  .addOption(new Option('--schedulers <k>', 'scheduler replicas').argParser(positiveInt('--schedulers')))
  .addOption(new Option('--partitions <p>', 'partitions').argParser(positiveInt('--partitions')))
  .addOption(new Option('--mode <mode>', 'placement mode').choices(MODES).default('latency-first'))
  .addOption(new Option('--rate <jobs/s>', 'offered jobs per second (open loop, alibaba2017 job sizes)').argParser(positive('--rate')))
  .addOption(new Option('--workload <trace>', 'replay this trace (e.g. workloads/alibaba2017.sample.jobs.jsonl.gz) instead of sampling'))
  .addOption(new Option('--speed <x>', 'time compression of --workload').argParser(positive('--speed')).default(1))
  .addOption(new Option('--duration <s>', 'seconds of load (single run; --profile)').argParser(positive('--duration')))
  .addOption(new Option('--time-scale <t>', 'divide task run times by this (default: from --utilisation)').argParser(positive('--time-scale')))
  .addOption(new Option('--utilisation <u>', 'offered utilisation of the bottleneck resource at the reference rate, to pick the time scale').argParser(positive('--utilisation')).default(0.5))
  .addOption(new Option('--seed <seed>', 'workload seed (same seed: same jobs, same order)').default('tessera-bench'))
  .option('--json', 'print a JSON summary as the last line')
  .option('--saturate', 'find the saturation rate (doubling, then bisection)')
  .option('--compare', 'every mode side by side with a report and plots')
  .option('--scale', 'the scale check (default 100 000 nodes, 8 schedulers)')
  .option('--profile', 'one load step with node --cpu-prof on cell-state, schedulers and agents')
  .option('--report', 'rebuild the report and docs/benchmark.md from the latest results files')
  .addOption(new Option('--p99-limit-ms <ms>', 'saturation: p99 delay limit').argParser(positive('--p99-limit-ms')).default(1000))
  .addOption(new Option('--max-rate <jobs/s>', 'saturation: highest rate probed').argParser(positive('--max-rate')).default(64))
  .addOption(new Option('--start-rate <jobs/s>', 'saturation: first rate probed').argParser(positive('--start-rate')).default(4))
  .addOption(new Option('--step-seconds <s>', '--compare: seconds per load step').argParser(positive('--step-seconds')).default(11))
  .addOption(new Option('--probe-seconds <s>', 'saturation: seconds per probe').argParser(positive('--probe-seconds')).default(12))
  .addOption(new Option('--saturation-rate <jobs/s>', '--compare: skip the search, use this rate').argParser(positive('--saturation-rate')))
  .addOption(new Option('--budget <s>', '--compare: time budget in seconds').argParser(positive('--budget')).default(840))
  .addOption(new Option('--steps <loads>', 'load steps as multiples of the saturation rate, e.g. 0.5,2,0.5 (overload and recovery; with --saturation-rate, no search)'))
  .option('--cpu-prof', '--steps, --preemption: CPU profiles of cell-state and the schedulers (bench/results/<time>-<kind>-profiles, not committed)')
  .addOption(new Option('--small-jobs <n>', 'submit n single-task jobs (1 core, 10 MiB) at once to nodes of 128 cores / 256 GiB; time first submit → last commit').argParser(positiveInt('--small-jobs')))
  .addOption(new Option('--jobs-per-message <n>', '--small-jobs: jobs per jobs-stream message (1 = one message a job)').argParser(positiveInt('--jobs-per-message')))
  .addOption(new Option('--security <s>', 'NATS security of the cell: off, auth (default, as tessera up) or tls (auth over TLS)').choices([...BENCH_SECURITY]).default('auth'))
  .option('--security-compare', 'the single run three times, NATS without auth, with auth, with auth + TLS: the cost side by side')
  .addOption(new Option('--fgd <policy>', "FGD's openb experiment through the real services (docs/fgd.md), one run: --seed S (FGD's seeds 42..51 replay FGD's own draws)").choices(['fgd', 'bestfit', 'packing', 'dotprod']))
  .addOption(new Option('--fill <x>', '--preemption: batch work asks this many times the cell\'s CPU').argParser(positive('--fill')).default(1))
  .addOption(new Option('--preemption-rate <n>', '--preemption: the schedulers\' --preemption-max-per-s').argParser(positive('--preemption-rate')))
  .option('--preemption', 'a cell full of preemptible batch work, then a burst of production jobs (--rate jobs/s for --duration s): their delay, victims per task, time to the guarantee (docs/policy.md)')
  .option('--fairness', "queues on the real services: google2011 users in 4 queues at load 2, DRF then FIFO ordering, Jain's index over time (docs/policy.md)")
  .option('--no-docs', '--compare/--report: do not touch docs/benchmark.md; --fairness: do not write docs/results and docs/plots');

program.parse(process.argv.filter((a, i) => !(i === 2 && a === '--')));
const o = program.opts<{
  nodes?: number; schedulers?: number; partitions?: number; mode: string; rate?: number; workload?: string; speed: number; duration?: number;
  timeScale?: number; utilisation: number; seed: string; json?: boolean; saturate?: boolean; compare?: boolean; scale?: boolean; profile?: boolean; report?: boolean;
  p99LimitMs: number; maxRate: number; startRate: number; stepSeconds: number; probeSeconds: number; saturationRate?: number; budget: number; docs: boolean; fairness?: boolean; preemption?: boolean; fill: number; preemptionRate?: number; fgd?: GpuPolicy; smallJobs?: number; jobsPerMessage?: number;
  steps?: string; cpuProf?: boolean; security: BenchSecurity; securityCompare?: boolean;
}>();

const started = performance.now();
/** Progress on stderr, prefixed with the minutes:seconds since start. */
const log = (line: string) => {
  const s = Math.floor((performance.now() - started) / 1000);
  process.stderr.write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}\n`);
};
const command = `npm run bench -- ${process.argv.slice(2).filter((a) => a !== '--').join(' ')}`.trim();

async function setupFor(nodes: number, schedulers: number, partitions: number, refRate: number, utilisation: number): Promise<{ setup: Setup; workload: WorkloadSpec }> {
  const dist = await loadDistribution();
  const capacity = cellCapacityOf(nodes, DEFAULT_SHAPE);
  const timeScale = o.timeScale ?? timeScaleFor(dist, capacity, refRate, utilisation);
  const workload: WorkloadSpec = {
    seed: o.seed, sampleEvery: 8,
    ...(o.workload !== undefined ? { replayTrace: o.workload, speed: o.speed } : {}),
  };
  const setup: Setup = {
    ...machineFacts(), nodes, schedulers, partitions, shape: { ...DEFAULT_SHAPE } as Record<string, number>, timeScale,
    workload: {
      source: BUNDLED.alibaba2017Jobs.replace(`${REPO_ROOT}/`, ''), seed: o.seed, jobs: dist.jobs, meanTasksPerJob: dist.meanTasksPerJob,
      ...(o.workload !== undefined ? { replay: o.workload, speed: o.speed } : {}),
    },
    utilisationPerJobPerS: offeredUtilisation(dist, capacity, 1, timeScale),
  };
  return { setup, workload };
}

async function rebuildReport(docs: boolean): Promise<string[]> {
  const c = latestResults('compare');
  if (c === undefined) {
    log('no compare results yet (run npm run bench -- --compare); docs/benchmark.md left as it is');
    return [];
  }
  return writeCompareReport(c, join(RESULTS_DIR, `${c.timestamp}.md`), { docs, scale: latestResults('scale'), profile: latestResults('profile') });
}

/**
 * --cpu-prof: cell-state and every scheduler write a CPU profile of the whole run to
 * bench/results/<name>/<kind> (not committed; read with bench/src/profile.ts).
 */
function cpuProfArgs(name: string): { 'cell-state': string[]; scheduler: string[] } {
  const dir = (kind: string) => {
    const d = join(REPO_ROOT, 'bench', 'results', name, kind);
    mkdirSync(d, { recursive: true });
    return ['--cpu-prof', '--cpu-prof-dir', d];
  };
  return { 'cell-state': dir('cell-state'), scheduler: dir('scheduler') };
}

async function main(): Promise<void> {
  const timestamp = stamp();
  if (o.report) {
    for (const f of await rebuildReport(o.docs)) log(`wrote ${f.replace(`${REPO_ROOT}/`, '')}`);
    return;
  }

  if (o.fgd !== undefined) {
    const seed = Number(o.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new InvalidArgumentError(`--fgd needs --seed S, an integer ≥ 0 (got ${o.seed})`);
    const r = await runFgdServices(o.fgd, seed, log);
    log(`${r.policy} seed ${r.seed} through the services: ${r.placed}/${r.pods} placed, GPU allocation ${r.alloc_pct_at_100}% at 100% arrived, ${r.alloc_pct_at_130}% at 130%; fragmentation ${r.frag_rate_at_90}% at 90% (${r.wall_s} s)`);
    const line = { policy: r.policy, seed: r.seed, alloc_pct_at_100: r.alloc_pct_at_100, alloc_pct_at_130: r.alloc_pct_at_130, frag_rate_at_90: r.frag_rate_at_90, via: 'services', pods: r.pods, placed: r.placed, wall_s: r.wall_s, load_avg: r.load_avg };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    return;
  }

  if (o.preemption) {
    const r = await runPreemption({
      nodes: o.nodes ?? 1000, schedulers: o.schedulers ?? 4, partitions: o.partitions ?? 32, burstRate: o.rate ?? 20, burstSeconds: o.duration ?? 10, seed: o.seed, fill: o.fill,
      ...(o.preemptionRate !== undefined ? { preemptionRate: o.preemptionRate } : {}),
      ...(o.cpuProf ? { nodeArgs: cpuProfArgs(`${new Date().toISOString().replace(/[:.]/g, '-')}-preemption-profiles`) } : {}),
    }, log);
    log(`prod: ${r.prod_placed_jobs}/${r.prod_jobs} jobs placed, delay p50 ${r.delay_ms.p50} ms p99 ${r.delay_ms.p99} ms; ${r.victims} victims for ${r.prod_tasks} tasks; prod at 90% of its guarantee after ${r.prod_to_guarantee_s ?? 'never'} s`);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }

  if (o.fairness) {
    const k = o.schedulers ?? 2;
    const seconds = o.duration ?? 60;
    const setup = { trace: 'google2011', window_s: 3600, seconds, load: 2, schedulers: k, partitions: o.partitions ?? 8, mode: o.mode, queues: FAIRNESS_QUEUES, command, ...machineFacts() };
    const runs = [];
    for (const order of ['drf', 'fifo'] as const) {
      const r = await runFairness({ order, schedulers: k, partitions: setup.partitions, mode: o.mode, seconds, windowS: setup.window_s, load: setup.load, ...(o.nodes !== undefined ? { nodes: o.nodes } : {}) }, log);
      log(`${order}: Jain mean ${r.jain_mean} min ${r.jain_min}, ${r.late_queue} to 90% of min(guarantee, fair share) ${r.late_queue_to_guarantee_s ?? 'never'} s, ${r.placements_per_s} placements/s, ${r.refused_claims} refused claims`);
      runs.push(r);
    }
    if (o.docs) for (const f of await writeFairnessDocs(runs, setup, REPO_ROOT)) log(`wrote ${f.replace(`${REPO_ROOT}/`, '')}`);
    const line = { fairness: runs.map(({ samples: _s, ...r }) => r) };
    process.stdout.write(o.json ? `${JSON.stringify(line)}\n` : `${JSON.stringify(line, null, 1)}\n`);
    return;
  }

  if (o.smallJobs !== undefined) {
    const k = o.schedulers ?? 1;
    const profileDir = o.profile ? join(REPO_ROOT, 'bench', 'results', `${timestamp}-small-jobs-profiles`) : undefined;
    const { profiles, ...r } = await runSmallJobs({
      jobs: o.smallJobs, nodes: o.nodes ?? 100, schedulers: k, partitions: o.partitions ?? Math.max(8, 2 * k), mode: o.mode,
      ...(profileDir !== undefined ? { profileDir } : {}), ...(o.jobsPerMessage !== undefined ? { jobsPerMessage: o.jobsPerMessage } : {}),
    }, log);
    log(`${r.placed}/${r.jobs} jobs committed in ${r.all_committed_s} s: ${r.jobs_per_s} jobs/s (submit ${r.submit_s} s); CPU s ${JSON.stringify(r.cpu_s)}`);
    for (const p of profiles ?? []) process.stderr.write(`== ${p.service} (${p.file.replace(`${REPO_ROOT}/`, '')})\n${formatTop(p.summary, 20)}\n`);
    process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.jobs_per_s} jobs/s (${r.placed}/${r.jobs} committed in ${r.all_committed_s} s; submit ${r.submit_s} s)\n`);
    return;
  }

  if (o.compare) {
    const nodes = o.nodes ?? 10_000, k = o.schedulers ?? 4, partitions = o.partitions ?? 32;
    const { setup, workload } = await setupFor(nodes, k, partitions, o.maxRate, 0.6);
    log(`== compare: ${nodes} nodes, K=${k}, P=${partitions}, time scale ${setup.timeScale} (${(setup.utilisationPerJobPerS * 100).toFixed(2)}% utilisation per job/s); load average ${setup.loadAvgAtStart.join(' ')}`);
    const compare = await runCompare({
      nodes, schedulers: k, partitions, shape: DEFAULT_SHAPE, timeScale: setup.timeScale, workload,
      stepSeconds: o.stepSeconds, warmSeconds: Math.min(3, o.stepSeconds / 3), probeSeconds: o.probeSeconds, probeWarmSeconds: Math.min(4, o.probeSeconds / 3),
      conflictSeconds: Math.max(12, o.stepSeconds), search: { start: o.startRate, min: Math.min(1, o.startRate), max: o.maxRate, tolerance: 0.15, maxSteps: 6, extraThroughputSteps: 2 },
      p99LimitMs: o.p99LimitMs, ks: [8, 4, 2, 1], budgetS: o.budget, transportSeconds: 4,
      ...(o.saturationRate !== undefined ? { saturationRate: o.saturationRate } : {}),
    }, log);
    const r: ResultsFile = { kind: 'compare', version: 1, timestamp, command, setup, compare };
    const path = writeResults(r);
    log(`wrote ${path.replace(`${REPO_ROOT}/`, '')}`);
    for (const f of await writeCompareReport(r, path.replace(/\.json$/, '.md'), { docs: o.docs, scale: latestResults('scale'), profile: latestResults('profile') })) log(`wrote ${f.replace(`${REPO_ROOT}/`, '')}`);
    const lf = compare.modes.find((m) => m.label === 'latency-first');
    const modes = Object.fromEntries(compare.modes.map((m) => [m.label, m.steps.map((s) => ({ step: s.label, ...jsonSummary(s.metrics, s.rate) }))]));
    const head = lf?.steps[2] ? jsonSummary(lf.steps[2].metrics, lf.steps[2].rate) : undefined;
    const out = { ...(head ?? {}), saturation_rate: compare.saturation?.saturationRate, throughput_saturation_rate: compare.saturation?.throughputSaturationRate, reference_rate: compare.referenceRate, results: path, modes, conflicts_vs_k: compare.conflicts };
    process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `results: ${path}\n`);
    return;
  }

  if (o.scale) {
    const nodes = o.nodes ?? 100_000, k = o.schedulers ?? 8, partitions = o.partitions ?? 64;
    const rate = o.rate ?? 5;
    const { setup, workload } = await setupFor(nodes, k, partitions, rate, o.utilisation);
    const scale = await runScale({
      nodes, schedulers: k, partitions, nodesPerAgent: 20_000, shape: DEFAULT_SHAPE, timeScale: setup.timeScale, rate, idleSeconds: 10, loadSeconds: o.duration ?? 20, workload,
    }, log);
    const r: ResultsFile = { kind: 'scale', version: 1, timestamp, command, setup, scale };
    const path = writeResults(r);
    log(`wrote ${path.replace(`${REPO_ROOT}/`, '')}`);
    if (o.docs) for (const f of await rebuildReport(true)) log(`wrote ${f.replace(`${REPO_ROOT}/`, '')}`);
    const m = scale.loaded?.metrics ?? scale.idle;
    const summary = {
      nodes, schedulers: k, partitions, partition_sync_ms: { p50: scale.idle.syncMs.p50, p99: scale.idle.syncMs.p99 }, partition_sync_loaded_ms: scale.loaded ? { p50: scale.loaded.metrics.syncMs.p50, p99: scale.loaded.metrics.syncMs.p99 } : undefined,
      processes: m.processes.filter((p) => p.kind !== 'bench').map((p) => ({ name: p.name, rss_mb: Math.round(p.rssMb), peak_rss_mb: Math.round(p.peakRssMb), cpu_share: p.cpuShare })),
      results: path,
    };
    process.stdout.write(o.json ? `${JSON.stringify(summary)}\n` : `${JSON.stringify(summary, null, 1)}\n`);
    return;
  }

  if (o.profile) {
    const nodes = o.nodes ?? 10_000, k = o.schedulers ?? 4, partitions = o.partitions ?? 32;
    const rate = o.rate ?? 10;
    const { setup, workload } = await setupFor(nodes, k, partitions, rate, o.utilisation);
    const dir = join(REPO_ROOT, 'bench', 'results', `${timestamp}-profiles`);
    const profile = await runProfile({ nodes, schedulers: k, partitions, mode: o.mode, shape: DEFAULT_SHAPE, timeScale: setup.timeScale, rate, seconds: o.duration ?? 30, dir, top: 25, workload }, log);
    const r: ResultsFile = { kind: 'profile', version: 1, timestamp, command, setup, profile };
    const path = writeResults(r);
    log(`wrote ${path.replace(`${REPO_ROOT}/`, '')} (profiles in ${dir.replace(`${REPO_ROOT}/`, '')}, not committed: *.cpuprofile is ignored)`);
    for (const p of profile.profiles) process.stdout.write(`== ${p.service}\n${formatTop(p.summary, 15)}\n`);
    if (o.docs) for (const f of await rebuildReport(true)) log(`wrote ${f.replace(`${REPO_ROOT}/`, '')}`);
    return;
  }

  if (o.steps !== undefined) {
    const loads = parseSteps(o.steps);
    const nodes = o.nodes ?? 10_000, k = o.schedulers ?? 4, partitions = o.partitions ?? 32;
    // Task run times as in --compare (60 % utilisation at --max-rate), shorter if the steps offer more:
    // the overload steps are about scheduling throughput, not a full cell.
    const peak = Math.max(o.maxRate, Math.max(...loads) * (o.saturationRate ?? o.maxRate));
    const { setup, workload } = await setupFor(nodes, k, partitions, peak, 0.6);
    const spec = {
      nodes, schedulers: k, partitions, mode: o.mode, timeScale: setup.timeScale, nodeShape: DEFAULT_SHAPE,
      ...(o.cpuProf ? { nodeArgs: cpuProfArgs(`${timestamp}-steps-profiles`) } : {}),
    };
    log(`== steps: ${o.mode} ×${k}, ${nodes} nodes, ${partitions} partitions, time scale ${setup.timeScale}; load average ${setup.loadAvgAtStart.join(' ')}`);
    const r = await runLoadSteps(spec, workload, {
      loads, stepSeconds: o.stepSeconds, p99LimitMs: o.p99LimitMs, criteria: { p99LimitMs: o.p99LimitMs, slopeFraction: 0.1, backlogSeconds: 2, workLagSeconds: 3 },
      search: { start: o.startRate, max: o.maxRate, probeSeconds: o.probeSeconds },
      ...(o.saturationRate !== undefined ? { saturationRate: o.saturationRate } : {}),
    }, log);
    const path = writeResults({ kind: 'run', version: 1, timestamp, command, setup, run: { label: 'steps', spec, startSeconds: 0, readySeconds: 0, steps: r.raw, timeline: r.timeline, loadgen: { source: setup.workload.source, meanTasksPerJob: setup.workload.meanTasksPerJob, loadMs: 0 } } }, `${timestamp}-steps-${o.mode}`);
    log(`wrote ${path.replace(`${REPO_ROOT}/`, '')}`);
    const out = { mode: o.mode, schedulers: k, saturation_rate: r.saturationRate, saturation_measured: r.measuredSaturation, load_average: setup.loadAvgAtStart, steps: r.steps, results: path };
    process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 1)}\n`);
    return;
  }

  // A single run (optionally with the saturation search first).
  const nodes = o.nodes ?? 10_000, k = o.schedulers ?? 4, partitions = o.partitions ?? 32;
  const rate = o.rate ?? 10;
  const { setup, workload } = await setupFor(nodes, k, partitions, o.saturate ? o.maxRate : rate, o.saturate ? 0.6 : o.utilisation);
  const spec = { nodes, schedulers: k, partitions, mode: o.mode, timeScale: setup.timeScale, nodeShape: DEFAULT_SHAPE, security: o.security };
  log(`== ${o.mode} ×${k}, ${nodes} nodes, ${partitions} partitions, time scale ${setup.timeScale}, NATS security ${o.securityCompare ? 'off/auth/tls' : o.security}; load average ${setup.loadAvgAtStart.join(' ')}`);
  if (o.securityCompare) {
    // The same run (same seed, rate, cell) three times in a row: the cost of authentication and TLS.
    const duration = o.duration ?? 30;
    const rows = [];
    for (const security of BENCH_SECURITY) {
      const run = await runOnFreshCell(`sec-${security}`, { ...spec, security }, workload, [{ label: `${rate}/s`, rate, seconds: duration, warmSeconds: Math.min(5, duration / 4) }], log, { criteria: { p99LimitMs: o.p99LimitMs, slopeFraction: 0.1, backlogSeconds: 2, workLagSeconds: 3 } });
      const m = run.steps[0].metrics;
      const row = { security, load_average: loadavg().map((x) => Number(x.toFixed(2))), ...jsonSummary(m, rate, run.delayCheck) };
      log(`${security}: ${row.placements_per_s} placements/s, delay p50 ${row.delay_ms.p50} ms p99 ${row.delay_ms.p99} ms, load average ${row.load_average.join(' ')}`);
      rows.push(row);
    }
    const base = rows[0].placements_per_s;
    const table = rows.map((r) => ({ security: r.security, placements_per_s: r.placements_per_s, vs_off: base > 0 ? Number((r.placements_per_s / base).toFixed(3)) : null, delay_p50_ms: r.delay_ms.p50, delay_p99_ms: r.delay_ms.p99, load_average: r.load_average, processes: r.processes }));
    const path = writeResults({ kind: 'security-compare', version: 1, timestamp, command, setup, rows } as unknown as ResultsFile, `${timestamp}-security`);
    log(`wrote ${path.replace(`${REPO_ROOT}/`, '')}`);
    process.stdout.write(`${JSON.stringify(o.json ? table : table.map(({ processes: _p, ...x }) => x), null, 1)}\n`);
    return;
  }
  if (o.saturate) {
    const sat = await searchSaturation(spec, workload, {
      start: o.startRate, min: Math.min(1, o.startRate), max: o.maxRate, tolerance: 0.1, maxSteps: 8,
      stepSeconds: o.probeSeconds, warmSeconds: Math.min(4, o.probeSeconds / 3), criteria: { p99LimitMs: o.p99LimitMs, slopeFraction: 0.1, backlogSeconds: 2, workLagSeconds: 3 },
    }, log);
    const best = [...sat.probes].filter((p) => (sat.saturationRate > 0 ? p.ok : p.queueOk)).sort((a, b) => b.rate - a.rate)[0];
    const r: ResultsFile = {
      kind: 'run', version: 1, timestamp, command, setup, saturation: sat,
      run: { label: 'saturation', spec, startSeconds: 0, readySeconds: 0, steps: sat.probes.map((p) => p.step), timeline: [], loadgen: { source: setup.workload.source, meanTasksPerJob: setup.workload.meanTasksPerJob, loadMs: 0 } },
    };
    const path = writeResults(r, `${timestamp}-saturate`);
    log(`wrote ${path.replace(`${REPO_ROOT}/`, '')}`);
    const summary = best ? jsonSummary(best.step.metrics, best.rate) : undefined;
    const out = { ...(summary ?? {}), saturation_rate: sat.saturationRate, throughput_saturation_rate: sat.throughputSaturationRate, why: sat.why, results: path };
    process.stdout.write(o.json ? `${JSON.stringify(out)}\n` : `saturation ${sat.saturationRate.toFixed(2)} jobs/s (queue bounded and p99 < ${o.p99LimitMs} ms); throughput saturation ${sat.throughputSaturationRate.toFixed(2)} jobs/s\n`);
    return;
  }
  const duration = o.duration ?? 30;
  const warm = Math.min(5, duration / 4);
  const run = await runOnFreshCell('run', spec, workload, [{ label: o.workload ? 'trace' : `${rate}/s`, rate: o.workload ? 1 : rate, seconds: duration, warmSeconds: warm }], log, { criteria: { p99LimitMs: o.p99LimitMs, slopeFraction: 0.1, backlogSeconds: 2, workLagSeconds: 3 } });
  const r: ResultsFile = { kind: 'run', version: 1, timestamp, command, setup, run };
  const path = writeResults(r, `${timestamp}-run`);
  log(`wrote ${path.replace(`${REPO_ROOT}/`, '')}`);
  const step = run.steps[0];
  const summary = jsonSummary(step.metrics, o.workload ? step.metrics.generator.published / step.metrics.seconds : rate, run.delayCheck);
  if (o.json) process.stdout.write(`${JSON.stringify({ ...summary, results: path })}\n`);
  else process.stdout.write(`${describeStep(step)}\n${JSON.stringify(summary, null, 1)}\n`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    log(`bench: ${e?.stack ?? String(e)}`);
    process.exit(1);
  },
);
