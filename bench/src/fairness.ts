/**
 * `npm run bench -- --fairness`: queues and DRF on the real services (docs/policy.md), the same
 * setup as the simulator's fairness experiment (libs/sim/src/experiments/fairness.ts) on a cell
 * this machine can run.
 *
 * google2011's users are grouped into 4 queues of about equal volume (usersToQueues); each queue
 * has weight 1 and a quarter of the cell guaranteed. The first `windowS` seconds of the trace are
 * replayed in `seconds` of wall time (arrivals and task run times compressed alike, run times
 * capped at 600 trace seconds as in the simulator), on a cell sized so that the window offers
 * `load` times its capacity of the bottleneck resource. One queue stays silent for the first
 * quarter of the window (its jobs before then are left out): a newly active queue entering a full
 * cell. It is the queue with the most tasks submitted after that point (q0 here), so that its
 * arrival is real demand: in the first trace hour most tasks arrive at t = 0, and the queue the
 * simulator's experiment keeps silent (q3) submits 54 tasks afterwards.
 *
 * Every second the benchmark asks cell-state for the queues (`query.queues`): each queue's
 * dominant share and pending tasks. A queue with pending tasks wants more than any split gives
 * it, one without wants what it has: max-min (water-filling) fair shares follow, and Jain's index
 * of share ÷ fair share (capped at 1) says how far the cell is from them (1 = every queue has its
 * fair share). Also the time from the late queue's first job until its share reaches 90 % of
 * min(its guaranteed quarter, its fair share).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fairnessOf, waterFill, type JobSpec } from '@tessera/core';
import type { NodeShape } from '@tessera/launcher';
import { lineChart, writeSvg, type Series } from '@tessera/plots';
import { queuesApplyReply, queuesListingReply, subjectsFor } from '@tessera/protocol';
import { JobPublisher, request } from '@tessera/runtime';
import { BUNDLED, CELL_SHAPES, loadTrace, usersToQueues, type TraceJob } from '@tessera/workloads';
import { BenchCell } from './cell.ts';
import { claimCounter } from './small-jobs.ts';

export const FAIRNESS_QUEUES = ['q0', 'q1', 'q2', 'q3'] as const;
const LATE_FROM_FRACTION = 0.25;
const MAX_TASK_S = 600;
const DEFAULT_TASK_S = 60;
const SHAPE: NodeShape = CELL_SHAPES.google2011;

export interface FairnessSpec {
  readonly order: 'drf' | 'fifo';
  readonly schedulers: number;
  readonly partitions: number;
  readonly mode: string;
  /** Wall seconds the replayed window takes. */
  readonly seconds: number;
  /** Trace seconds replayed (from the trace's first submission). */
  readonly windowS: number;
  /** Offered load of the bottleneck resource (2: twice what the cell holds). */
  readonly load: number;
  /** Fixed cell size (default: sized for `load`). */
  readonly nodes?: number;
}

export interface FairnessSample {
  readonly t_s: number;
  readonly shares: Record<string, number>;
  readonly pending_tasks: Record<string, number>;
  readonly fair: Record<string, number>;
  readonly jain: number | null;
}

export interface FairnessResult {
  readonly order: 'drf' | 'fifo';
  readonly nodes: number;
  readonly schedulers: number;
  readonly speed: number;
  readonly jobs: number;
  /** Mean and min of Jain's index over the samples from 10 % of the window to its end. */
  readonly jain_mean: number | null;
  readonly jain_min: number | null;
  /** The queue silent for the first quarter of the window. */
  readonly late_queue: string;
  /** Wall seconds from the late queue's first submission until its share reaches 90 % of min(guarantee, fair share); null: never. */
  readonly late_queue_to_guarantee_s: number | null;
  readonly late_from_s: number;
  readonly placements_per_s: number;
  readonly refused_claims: number;
  readonly load_avg: readonly number[];
  readonly samples: readonly FairnessSample[];
}

interface FairnessWorkload {
  readonly jobs: readonly TraceJob[];
  readonly lateQueue: string;
  readonly originS: number;
  /** Resource-seconds per second the window offers, per resource. */
  readonly demandPerS: Record<string, number>;
}

/** The window's jobs with their queue, the late queue's early ones left out, run times capped. */
export async function fairnessWorkload(windowS: number): Promise<FairnessWorkload> {
  const { jobs } = await loadTrace(BUNDLED.google2011Jobs);
  const sorted = [...jobs].sort((a, b) => a.submitS - b.submitS);
  const volume = new Map<string, number>();
  for (const tj of sorted) {
    let v = 0;
    for (const g of tj.job.tasks) v += (g.resources.cpu_millis ?? 0) * g.count;
    volume.set(tj.job.tenant ?? 'unknown', (volume.get(tj.job.tenant ?? 'unknown') ?? 0) + v);
  }
  const queueOf = usersToQueues(volume, FAIRNESS_QUEUES);
  const originS = sorted[0]?.submitS ?? 0;
  const lateFromS = LATE_FROM_FRACTION * windowS;
  const tasksAfter = new Map<string, number>(FAIRNESS_QUEUES.map((q) => [q, 0]));
  for (const tj of sorted) {
    const at = tj.submitS - originS;
    if (at > windowS) break;
    if (at < lateFromS) continue;
    const q = queueOf.get(tj.job.tenant ?? 'unknown')!;
    for (const g of tj.job.tasks) tasksAfter.set(q, tasksAfter.get(q)! + g.count);
  }
  const lateQueue = [...tasksAfter].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  const out: TraceJob[] = [];
  const work: Record<string, number> = {};
  for (const tj of sorted) {
    const at = tj.submitS - originS;
    if (at > windowS) break;
    const queue = queueOf.get(tj.job.tenant ?? 'unknown')!;
    if (queue === lateQueue && at < lateFromS) continue;
    const tasks = tj.job.tasks.map((g) => ({ ...g, duration_s: Math.min(g.duration_s ?? DEFAULT_TASK_S, MAX_TASK_S) }));
    for (const g of tasks) for (const [r, v] of Object.entries(g.resources)) work[r] = (work[r] ?? 0) + (v ?? 0) * g.count * g.duration_s;
    out.push({ ...tj, job: { ...tj.job, queue, tasks } as JobSpec });
  }
  const demandPerS = Object.fromEntries(Object.entries(work).map(([r, w]) => [r, w / windowS]));
  return { jobs: out, lateQueue, originS, demandPerS };
}

/** Nodes of SHAPE such that the workload offers `load` times the cell's bottleneck resource. */
export function nodesForLoad(demandPerS: Record<string, number>, load: number): number {
  let nodes = 1;
  for (const [r, d] of Object.entries(demandPerS)) {
    const per = (SHAPE as Record<string, number | undefined>)[r];
    if (per !== undefined && per > 0) nodes = Math.max(nodes, Math.ceil(d / (load * per)));
  }
  return nodes;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

export async function runFairness(spec: FairnessSpec, log: (line: string) => void): Promise<FairnessResult> {
  const w = await fairnessWorkload(spec.windowS);
  const nodes = spec.nodes ?? nodesForLoad(w.demandPerS, spec.load);
  const speed = spec.windowS / spec.seconds;
  const cell = await BenchCell.start(`fair${process.pid}${spec.order}`, {
    nodes, schedulers: spec.schedulers, partitions: spec.partitions, mode: spec.mode, timeScale: speed, nodeShape: SHAPE,
    extraArgs: { scheduler: ['--queue-order', spec.order] },
  });
  try {
    await cell.waitSchedulersReady();
    const subjects = subjectsFor(cell.name);
    const quarter: Record<string, number> = {};
    for (const [r, v] of Object.entries(SHAPE)) if (typeof v === 'number' && v > 0) quarter[r] = Math.floor((v * nodes) / FAIRNESS_QUEUES.length);
    await request(cell.nc, subjects.queuesApply, { file: { queues: FAIRNESS_QUEUES.map((name) => ({ name, guaranteed: quarter })) } }, queuesApplyReply, { timeoutMs: 10_000 });
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    log(`== fairness (${spec.order}): ${w.jobs.length} google2011 jobs (${w.lateQueue} silent for the first quarter), ${spec.windowS} trace s in ${spec.seconds} s (×${speed.toFixed(1)}), ${nodes} nodes, K=${spec.schedulers}, ${spec.mode}; load average ${load.join(' ')}`);

    const metricsUrl = cell.handle.cellStateMetricsUrl;
    const committed0 = await claimCounter(metricsUrl, 'committed');
    const refused0 = await claimCounter(metricsUrl, 'rejected');
    const pub = new JobPublisher(cell.nc, subjects);
    const t0 = performance.now();
    const epoch0 = Date.now();
    let lateFromS: number | undefined;
    const replay = (async () => {
      for (const tj of w.jobs) {
        const dueMs = ((tj.submitS - w.originS) / speed) * 1000;
        const wait = t0 + dueMs - performance.now();
        if (wait > 1) await sleep(wait);
        if (lateFromS === undefined && tj.job.queue === w.lateQueue) lateFromS = dueMs / 1000;
        await pub.publish({ ...tj.job, id: `f-${tj.job.id}` }, Math.round(epoch0 + dueMs));
      }
      await pub.flush();
    })();

    const samples: FairnessSample[] = [];
    for (let k = 1; k * 1000 <= spec.seconds * 1000; k++) {
      await sleep(t0 + k * 1000 - performance.now());
      const tS = (performance.now() - t0) / 1000;
      let items;
      try {
        items = (await request(cell.nc, subjects.queryQueues, {}, queuesListingReply, { timeoutMs: 5_000 })).items;
      } catch (e) {
        log(`  queues listing at ${tS.toFixed(0)} s failed: ${(e as Error).message}`);
        continue;
      }
      const byName = new Map(items.map((q) => [q.name, q]));
      const shares = FAIRNESS_QUEUES.map((q) => byName.get(q)?.dominant_share ?? 0);
      const pending = FAIRNESS_QUEUES.map((q) => byName.get(q)?.pending_tasks ?? 0);
      // A backlogged queue wants more than any split; one without a backlog wants what it has.
      const fair = waterFill(FAIRNESS_QUEUES.map((_, i) => (pending[i] > 0 ? Infinity : shares[i])));
      const j = fairnessOf(shares, fair);
      const rec = (xs: readonly number[]) => Object.fromEntries(FAIRNESS_QUEUES.map((q, i) => [q, r4(xs[i])]));
      samples.push({ t_s: Math.round(tS), shares: rec(shares), pending_tasks: rec(pending), fair: rec(fair), jain: j === undefined ? null : r4(j) });
      if (k % 10 === 0) log(`  ${Math.round(tS)} s: shares ${FAIRNESS_QUEUES.map((q, i) => `${q} ${shares[i].toFixed(2)}`).join(' ')}, Jain ${j?.toFixed(3) ?? '–'}`);
    }
    await replay;
    const elapsed = (performance.now() - t0) / 1000;
    const committed = (await claimCounter(metricsUrl, 'committed')) - committed0;
    const refused = (await claimCounter(metricsUrl, 'rejected')) - refused0;

    const measured = samples.filter((s) => s.t_s >= 0.1 * spec.seconds && s.jain !== null).map((s) => s.jain!);
    const late = w.lateQueue;
    const reached = lateFromS === undefined ? undefined : samples.find((s) => s.t_s >= lateFromS! && s.fair[late] > 0
      && s.shares[late] >= 0.9 * Math.min(1 / FAIRNESS_QUEUES.length, s.fair[late]));
    return {
      order: spec.order, nodes, schedulers: spec.schedulers, speed: r4(speed), jobs: w.jobs.length, late_queue: late,
      jain_mean: measured.length === 0 ? null : r4(measured.reduce((a, b) => a + b, 0) / measured.length),
      jain_min: measured.length === 0 ? null : Math.min(...measured),
      late_queue_to_guarantee_s: reached === undefined || lateFromS === undefined ? null : Math.round((reached.t_s - lateFromS) * 10) / 10,
      late_from_s: Math.round((lateFromS ?? Number.NaN) * 10) / 10,
      placements_per_s: Math.round(committed / elapsed), refused_claims: refused, load_avg: load, samples,
    };
  } finally {
    await cell.stop();
  }
}

/** docs/results/fairness-services.json and the plots docs/plots/fairness-services-*.svg. */
export async function writeFairnessDocs(runs: readonly FairnessResult[], setup: Record<string, unknown>, repoRoot: string): Promise<string[]> {
  const docs = join(repoRoot, 'docs');
  await mkdir(join(docs, 'results'), { recursive: true });
  const files = [join(docs, 'results', 'fairness-services.json'), join(docs, 'plots', 'fairness-services-jain.svg')];
  await writeFile(files[0], `${JSON.stringify({ setup, runs }, null, 2)}\n`, 'utf8');
  const sub = `real services: google2011 users in 4 queues (weight 1, a quarter guaranteed each), load ${String(setup.load)}, ${runs[0]?.nodes ?? '?'} nodes, K = ${runs[0]?.schedulers ?? '?'}`;
  await writeSvg(files[1], await lineChart({
    title: "Jain's index of share ÷ max-min fair share (real services)", subtitle: sub, xLabel: 'time (s)', yLabel: "Jain's index (1 = all fair)",
    series: runs.map((r): Series => ({ name: r.order, points: r.samples.filter((s) => s.jain !== null).map((s) => [s.t_s, s.jain!] as const) })),
  }));
  for (const r of runs) {
    const f = join(docs, 'plots', `fairness-services-shares-${r.order}.svg`);
    files.push(f);
    await writeSvg(f, await lineChart({
      title: `Dominant share per queue, ${r.order} ordering, real services (${r.late_queue} starts at ${r.late_from_s} s)`, subtitle: sub, xLabel: 'time (s)', yLabel: 'dominant share',
      series: FAIRNESS_QUEUES.map((q): Series => ({ name: q, points: r.samples.map((s) => [s.t_s, s.shares[q]] as const) })),
    }));
  }
  return files;
}
