/**
 * `npm run bench -- --preemption [--nodes N] [--schedulers K] --json`: how fast high-priority work
 * gets room in a cell full of low-priority work (DESIGN §11, docs/policy.md).
 *
 * Two queues: `batch` (no guarantee) and `prod` (guaranteed half the cell). First the cell is
 * filled: real alibaba2017 jobs (@tessera/workloads' empirical sampler, seeded) as preemptible,
 * priority-0 `batch` jobs running an hour, submitted until they ask for `fill` × the cell's CPU
 * (`--fill`, default 1), and left to settle until ≥ 90 % of the bottleneck resource (memory here) is
 * allocated, at most 5 minutes (what does not fit stays pending: a backlog).
 * Jobs are capped at 40 tasks (groups scaled alike), as in the chaos load. The batch work then
 * runs past the minimum run time (no task younger than it is a victim: DESIGN §11). Then a
 * burst of `prod` jobs (the same sampler, priority 100, not preemptible, an hour too) is submitted
 * at `burstRate` jobs/s for `burstSeconds`. Measured: each prod job's delay from submission to
 * the commit of its last task (the listing's placedAt − submittedAt), p50 and p99; victims per
 * placed prod task (cell-state's tessera_preemption_victims_total over the burst); the time from
 * the burst's start until prod's dominant share reaches 90 % of min(its guarantee, its demand);
 * and placements/s during the burst.
 */
import { loadavg } from 'node:os';
import { DEFAULT_PREEMPTION_MIN_RUNTIME_S, type JobSpec } from '@tessera/core';
import { jobsListingReply, partitionsListingReply, queuesApplyReply, queuesListingReply, subjectsFor, type JobListing } from '@tessera/protocol';
import { createRng } from '@tessera/policy';
import { JobPublisher, request } from '@tessera/runtime';
import { BUNDLED, cappedCounts, jobSizeDistribution, loadTrace } from '@tessera/workloads';
import { BenchCell, type BenchCellSpec } from './cell.ts';
import { claimCounter, counter } from './small-jobs.ts';
import { DEFAULT_SHAPE } from './workload.ts';

export interface PreemptionSpec {
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly burstRate: number;
  readonly burstSeconds: number;
  readonly seed: string;
  /** The batch work asks this many times the cell's CPU (1: about full; more: a backlog waits too). */
  readonly fill: number;
  /** The schedulers' --preemption-max-per-s (default: theirs). */
  readonly preemptionRate?: number;
  /** Node.js flags per service kind (--cpu-prof). */
  readonly nodeArgs?: BenchCellSpec['nodeArgs'];
}

export interface PreemptionResult {
  readonly nodes: number;
  readonly schedulers: number;
  readonly batch_jobs: number;
  readonly fill: number;
  readonly preemption_max_per_second: number | null;
  readonly fill_s: number;
  /** Seconds from the fill's settling to the burst (the minimum run time and a margin). */
  readonly fill_age_at_burst_s: number;
  readonly allocated_before_burst: number;
  readonly prod_jobs: number;
  readonly prod_tasks: number;
  readonly prod_placed_jobs: number;
  readonly delay_ms: { p50: number | null; p99: number | null; max: number | null };
  readonly victims: number;
  readonly victims_per_prod_task: number | null;
  readonly prod_to_guarantee_s: number | null;
  readonly placements_per_s_burst: number;
  readonly load_avg: readonly number[];
}

const HOUR_S = 3600;
/** Tasks per job at most (groups scaled alike, as the chaos load does): the trace's biggest jobs would fill the cell alone. */
const MAX_TASKS_PER_JOB = 40;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export async function runPreemption(spec: PreemptionSpec, log: (line: string) => void): Promise<PreemptionResult> {
  const dist = jobSizeDistribution((await loadTrace(BUNDLED.alibaba2017Jobs)).jobs);
  const rng = createRng(`${spec.seed}/preemption`);
  const draw = (id: string, queue: string, priority: number, preemptible: boolean): JobSpec => {
    const s = dist.sample(rng);
    const counts = cappedCounts(s.tasks.map((g) => g.count), MAX_TASKS_PER_JOB);
    return { id, tenant: s.tenant, queue, priority, gang: false, preemptible, tasks: counts.map((count, i) => ({ ...s.tasks[i], count, duration_s: HOUR_S })) } as JobSpec;
  };
  const cpuOf = (j: JobSpec) => j.tasks.reduce((a, g) => a + g.count * (g.resources.cpu_millis ?? 0), 0);
  const capacityCpu = spec.nodes * (DEFAULT_SHAPE.cpu_millis ?? 0);
  const cell = await BenchCell.start(`pre${process.pid}`, {
    nodes: spec.nodes, schedulers: spec.schedulers, partitions: spec.partitions, mode: 'latency-first', timeScale: 1, nodeShape: DEFAULT_SHAPE,
    extraArgs: { scheduler: ['--queue-order', 'drf', '--max-wait-ms', '3600000', ...(spec.preemptionRate === undefined ? [] : ['--preemption-max-per-s', String(spec.preemptionRate)])] },
    ...(spec.nodeArgs === undefined ? {} : { nodeArgs: spec.nodeArgs }),
  });
  try {
    await cell.waitSchedulersReady();
    const subjects = subjectsFor(cell.name);
    const half: Record<string, number> = {};
    for (const [r, v] of Object.entries(DEFAULT_SHAPE)) if (typeof v === 'number' && v > 0) half[r] = Math.floor((v * spec.nodes) / 2);
    await request(cell.nc, subjects.queuesApply, { file: { queues: [{ name: 'batch' }, { name: 'prod', guaranteed: half }] } }, queuesApplyReply, { timeoutMs: 10_000 });
    // The cell's allocated ratio of its bottleneck resource (memory for these jobs on this node
    // shape), from the partitions: queue usage counts no preemptible tasks, so batch shows 0.
    const cellAllocated = async () => {
      const parts = (await request(cell.nc, subjects.queryPartitions, {}, partitionsListingReply, { timeoutMs: 10_000 })).items;
      let n = 0;
      const sum: Record<string, number> = {};
      for (const p of parts) {
        n += p.nodes;
        for (const [r, v] of Object.entries(p.allocated_ratio)) sum[r] = (sum[r] ?? 0) + v * p.nodes;
      }
      return n === 0 ? 0 : Math.max(...Object.values(sum).map((v) => v / n));
    };
    // A queue's dominant share of the cell (allocated ÷ capacity, the largest over CPU and memory).
    const capacity = { cpu_millis: capacityCpu, mem_mib: spec.nodes * (DEFAULT_SHAPE.mem_mib ?? 0) };
    const dominant = (r: Readonly<Record<string, number>>) => Math.max(...Object.entries(capacity).map(([k, c]) => (r[k] ?? 0) / c));
    const shares = async () => new Map((await request(cell.nc, subjects.queryQueues, {}, queuesListingReply, { timeoutMs: 10_000 })).items.map((q) => [q.name, dominant(q.allocated)]));
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    log(`== preemption: ${spec.nodes} nodes, K=${spec.schedulers}, P=${spec.partitions}; load average ${load.join(' ')}`);

    // ---- fill the cell with preemptible batch work ------------------------------------------
    const pub = new JobPublisher(cell.nc, subjects);
    const t0 = performance.now();
    let asked = 0;
    let batchJobs = 0;
    const batch: JobSpec[] = [];
    while (asked < spec.fill * capacityCpu) {
      const j = draw(`batch-${batchJobs++}`, 'batch', 0, true);
      asked += cpuOf(j);
      batch.push(j);
    }
    await pub.publishAll(batch, Date.now());
    await pub.flush();
    let allocated = 0;
    for (const deadline = Date.now() + 300_000; Date.now() < deadline;) {
      await sleep(1_000);
      // The cell-state answers queries between commit batches: under the fill one may time out.
      allocated = await cellAllocated().catch(() => allocated);
      if (allocated >= 0.9 * Math.min(1, spec.fill)) break;
    }
    const fillS = (performance.now() - t0) / 1000;
    log(`filled: ${batchJobs} batch jobs asking ${(asked / capacityCpu).toFixed(2)}× the cell's CPU; ${(allocated * 100).toFixed(1)} % of its bottleneck resource allocated after ${fillS.toFixed(1)} s`);
    // A task younger than the minimum run time is never a victim: a burst into a cell filled
    // seconds ago measures that rule, not preemption. The batch work has run that long when it comes.
    const settledAt = performance.now();
    await sleep((DEFAULT_PREEMPTION_MIN_RUNTIME_S + 2) * 1000);
    const fillAgeS = (performance.now() - settledAt) / 1000;

    // ---- the burst of production work --------------------------------------------------------
    const metricsUrl = cell.handle.cellStateMetricsUrl;
    const victims0 = await counter(metricsUrl, 'tessera_preemption_victims_total');
    const committed0 = await claimCounter(metricsUrl, 'committed');
    const prodIds: string[] = [];
    let prodTasks = 0;
    const prodAsked: Record<string, number> = {};
    const burstStart = performance.now();
    const total = Math.max(1, Math.round(spec.burstRate * spec.burstSeconds));
    const sender = (async () => {
      for (let k = 0; k < total; k++) {
        const due = burstStart + (k / spec.burstRate) * 1000;
        if (due > performance.now()) await sleep(due - performance.now());
        const j = draw(`prod-${k}`, 'prod', 100, false);
        prodIds.push(j.id);
        prodTasks += j.tasks.reduce((a, g) => a + g.count, 0);
        for (const g of j.tasks) for (const [r, v] of Object.entries(g.resources)) prodAsked[r] = (prodAsked[r] ?? 0) + g.count * (v ?? 0);
        await pub.publish(j, Date.now());
      }
      await pub.flush();
    })();
    // prod's share against min(guarantee, what it asked so far), sampled every 250 ms.
    let reachedS: number | null = null;
    const deadline = performance.now() + (spec.burstSeconds + 120) * 1000;
    let listed: JobListing[] = [];
    let missedSamples = 0;
    while (performance.now() < deadline) {
      await sleep(250);
      let share: number;
      try {
        share = (await shares()).get('prod') ?? 0;
      } catch {
        missedSamples++; // cell-state too busy to answer in time: the next sample
        continue;
      }
      const want = Math.min(0.5, dominant(prodAsked));
      if (reachedS === null && prodIds.length === total && want > 0 && share >= 0.9 * want) reachedS = (performance.now() - burstStart) / 1000;
      if (prodIds.length < total) continue;
      const page: JobListing[] = [];
      try {
        for (let i = 0; i < prodIds.length; i += 1000) {
          const r = await request(cell.nc, subjects.queryJobs, { ids: prodIds.slice(i, i + 1000), limit: 1000, offset: 0, taskLimit: 0 }, jobsListingReply, { timeoutMs: 30_000 });
          page.push(...(r.items as JobListing[]));
        }
      } catch {
        missedSamples++;
        continue;
      }
      listed = page;
      if (listed.filter((j) => j.placedAt !== undefined).length === total && reachedS !== null) break;
    }
    await sender;
    if (missedSamples > 0) log(`${missedSamples} samples missed (cell-state did not answer a listing in time)`);
    const burstS = (performance.now() - burstStart) / 1000;
    const victims = (await counter(metricsUrl, 'tessera_preemption_victims_total')) - victims0;
    const committed = (await claimCounter(metricsUrl, 'committed')) - committed0;
    const delays = listed.flatMap((j) => (j.placedAt !== undefined && j.submittedAt !== undefined ? [j.placedAt - j.submittedAt] : []));
    return {
      nodes: spec.nodes, schedulers: spec.schedulers, batch_jobs: batchJobs, fill: spec.fill, preemption_max_per_second: spec.preemptionRate ?? null, fill_s: Math.round(fillS * 10) / 10, fill_age_at_burst_s: Math.round(fillAgeS * 10) / 10, allocated_before_burst: Math.round(allocated * 1000) / 1000,
      prod_jobs: total, prod_tasks: prodTasks, prod_placed_jobs: delays.length,
      delay_ms: { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), max: delays.length === 0 ? null : Math.max(...delays) },
      victims, victims_per_prod_task: prodTasks > 0 ? Math.round((victims / prodTasks) * 1000) / 1000 : null,
      prod_to_guarantee_s: reachedS === null ? null : Math.round(reachedS * 10) / 10,
      placements_per_s_burst: Math.round(committed / burstS), load_avg: load,
    };
  } finally {
    await cell.stop();
  }
}
