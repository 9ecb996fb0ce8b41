/**
 * `npm run experiments -- --only fairness`: queues and DRF on google2011 (docs/policy.md).
 *
 * Tenants are the trace's `user`s, grouped into 4 queues by volume (users sorted by their total
 * cpu·seconds, each put in the queue with the least volume so far: four queues of about equal
 * offered work, each a mix of big and small users). Each queue has weight 1 and a guaranteed
 * quarter of the cell. The trace is time-scaled to an offered load of 2 of a 1,000-node cell
 * (the whole 2.9 h trace then arrives in about 390 s), and queue q3 stays silent for the first
 * quarter of it (its jobs before then are left out), so it is a newly active queue entering a full cell.
 *
 * Per run, every 5 s of simulated time: each queue's weighted dominant share (allocated ÷ cell
 * capacity, max over resources) and its demand (allocated + pending tasks, as a dominant share);
 * the max-min fair (water-filling) share of each queue given those demands; and Jain's fairness
 * index (Σx)² / (n·Σx²) of x = share ÷ fair share over the queues with a fair share above 0
 * (1 = every queue has exactly its fair share; a queue that asks for less than an equal split is
 * not counted as treated unfairly). Also the time from q3's first job until its dominant share
 * reaches 90% of min(its guaranteed quarter, its demand). DRF ordering vs FIFO (arrival order),
 * same arrivals. The numbers are pure functions of the code and the trace.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fairnessOf, parseQueueFile, waterFill, type ResourceVector, type TxnResult } from '@tessera/core';
import { lineChart, writeSvg, type Series } from '@tessera/plots';
import type { QueueOrder } from '@tessera/replica';
import { BUNDLED, usersToQueues } from '@tessera/workloads';
import { Simulation, type SimJob } from '../engine.ts';
import { simConfigOf } from '../run.ts';
import { buildWorkload } from '../workload.ts';

const DOCS = fileURLToPath(new URL('../../../../docs/', import.meta.url));
const QUEUES = ['q0', 'q1', 'q2', 'q3'] as const;
const LATE_QUEUE = 'q3';
const LATE_FROM_FRACTION = 0.25;
const SAMPLE_S = 5;
const NODES = 1000;
const LOAD = 2;
const WINDOW_S = 3600;

interface Sample {
  readonly t_s: number;
  readonly shares: Record<string, number>;
  /** Allocated + pending, as a dominant share. */
  readonly demand: Record<string, number>;
  readonly fair: Record<string, number>;
  readonly jain: number | null;
}

export interface FairnessRun {
  readonly order: QueueOrder;
  readonly samples: Sample[];
  /** Mean Jain's index (share ÷ fair share) over the samples from 10% of the trace's span to its end. */
  readonly jain_mean: number | null;
  readonly jain_min: number | null;
  /** Seconds from the late queue's first job to 90% of its guaranteed share (null: never). */
  readonly late_queue_to_guarantee_s: number | null;
  readonly late_from_s: number;
  readonly placements: number;
  /** Claims the committer refused (the retries they cause are where waiting demand sits). */
  readonly conflicts: number;
  readonly wall_s: number;
}

async function runOne(order: QueueOrder): Promise<FairnessRun> {
  const w = await buildWorkload({ workload: BUNDLED.google2011Jobs, nodes: NODES, load: LOAD, seed: 1, maxTaskDurationS: 600, defaultTaskDurationS: 60 });
  const space = w.space;
  // Volume per user over the whole trace, then the grouping.
  const all: SimJob[] = [...w.arrivals];
  const volume = new Map<string, number>();
  for (const j of all) {
    const u = j.job.tenant ?? 'unknown';
    let v = 0;
    for (const g of j.job.tasks) v += (g.resources.cpu_millis ?? 0) * g.count;
    volume.set(u, (volume.get(u) ?? 0) + v);
  }
  const queueOf = usersToQueues(volume, QUEUES);
  const capacity = space.zero();
  for (const n of w.nodes) for (let k = 0; k < capacity.length; k++) capacity[k] += n.capacity[k];
  const quarter = Object.fromEntries(space.names.map((r, k) => [r, Math.floor(capacity[k] / QUEUES.length)]).filter(([, v]) => (v as number) > 0));
  const file = parseQueueFile({ queues: QUEUES.map((name) => ({ name, guaranteed: quarter })) }, space, capacity);
  if (!file.ok) throw new Error(`fairness queue file: ${file.error.path}: ${file.error.message}`);

  const spanS = all.length === 0 ? 0 : all[all.length - 1].submitS;
  const lateFromS = LATE_FROM_FRACTION * spanS;
  const arrivals: SimJob[] = [];
  // Per job: its queue and each group's demand (committed task ids name job and group).
  const jobInfo = new Map<string, { queue: string; groups: Map<string, ResourceVector> }>();
  const arrivedDemand = new Map<string, { atS: number; demand: ResourceVector }[]>(QUEUES.map((q) => [q, []]));
  for (const j of all) {
    const q = queueOf.get(j.job.tenant ?? 'unknown')!;
    if (q === LATE_QUEUE && j.submitS < lateFromS) continue;
    if (j.submitS > WINDOW_S) break;
    arrivals.push({ ...j, job: { ...j.job, queue: q } });
    const groups = new Map<string, ResourceVector>();
    const demand = space.zero();
    for (const g of j.job.tasks) {
      const v = space.vector(g.resources);
      groups.set(g.name, v);
      for (let k = 0; k < v.length; k++) demand[k] += v[k] * g.count;
    }
    jobInfo.set(j.job.id, { queue: q, groups });
    arrivedDemand.get(q)!.push({ atS: j.submitS, demand });
  }

  const committed = new Map<string, ResourceVector>(QUEUES.map((q) => [q, space.zero()]));
  const arrived = new Map<string, ResourceVector>(QUEUES.map((q) => [q, space.zero()]));
  const arrivedIx = new Map<string, number>(QUEUES.map((q) => [q, 0]));
  const samples: Sample[] = [];
  let nextSampleMs = SAMPLE_S * 1000;
  const sample = (atMs: number) => {
    const used = sim.cell.queueAllocated(); // called from onCommitted, once sim exists
    const shares: Record<string, number> = {};
    const demand: Record<string, number> = {};
    for (const q of QUEUES) {
      const list = arrivedDemand.get(q)!;
      const sum = arrived.get(q)!;
      let i = arrivedIx.get(q)!;
      for (; i < list.length && list[i].atS * 1000 <= atMs; i++) for (let k = 0; k < sum.length; k++) sum[k] += list[i].demand[k];
      arrivedIx.set(q, i);
      const a = used.get(q);
      const pending = sum.map((x, k) => Math.max(0, x - committed.get(q)![k]));
      shares[q] = dominantShareOf(a, capacity);
      demand[q] = dominantShareOf(a === undefined ? pending : pending.map((x, k) => x + a[k]), capacity);
    }
    const fairList = waterFill(QUEUES.map((q) => demand[q]));
    const fair = Object.fromEntries(QUEUES.map((q, i) => [q, fairList[i]]));
    const j = fairnessOf(QUEUES.map((q) => shares[q]), fairList) ?? null;
    samples.push({ t_s: Math.round(atMs / 1000), shares: round(shares), demand: round(demand), fair: round(fair), jain: j === null ? null : Math.round(j * 10_000) / 10_000 });
  };
  const onCommitted = (r: TxnResult, atMs: number) => {
    while (atMs >= nextSampleMs) {
      sample(nextSampleMs);
      nextSampleMs += SAMPLE_S * 1000;
    }
    for (const id of r.committed) {
      const { job, group } = taskParts(id);
      const info = jobInfo.get(job);
      const v = info?.groups.get(group);
      if (info === undefined || v === undefined) continue;
      const c = committed.get(info.queue)!;
      for (let k = 0; k < c.length; k++) c[k] += v[k];
    }
  };
  const config = simConfigOf({ schedulers: 8, partitions: 32, syncIntervalMs: 1000, mode: 'latency-first', seed: 1, queueOrder: order, queues: file.tree, arrivalWindowS: WINDOW_S, maxTaskDurationS: 600, retry: { maxWaitMs: Infinity, conflictWindowMs: Infinity } });
  const started = performance.now();
  const sim = new Simulation(config, space, w.nodes, arrivals, { onCommitted });
  const stats = sim.run();
  const wall = (performance.now() - started) / 1000;

  const measured = samples.filter((s) => s.t_s >= 0.1 * spanS && s.t_s <= spanS && s.jain !== null).map((s) => s.jain!);
  const lateStart = arrivedDemand.get(LATE_QUEUE)![0]?.atS;
  const guaranteeShare = 1 / QUEUES.length;
  const reached = lateStart === undefined ? undefined : samples.find((s) => s.t_s >= lateStart && s.shares[LATE_QUEUE] >= 0.9 * Math.min(guaranteeShare, s.demand[LATE_QUEUE]) && s.demand[LATE_QUEUE] > 0);
  return {
    order,
    samples,
    jain_mean: measured.length === 0 ? null : Math.round((measured.reduce((a, b) => a + b, 0) / measured.length) * 10_000) / 10_000,
    jain_min: measured.length === 0 ? null : Math.min(...measured),
    late_queue_to_guarantee_s: reached === undefined || lateStart === undefined ? null : Math.round(reached.t_s - lateStart),
    late_from_s: Math.round(lateFromS),
    placements: stats.placements,
    conflicts: stats.conflicts,
    wall_s: Math.round(wall * 10) / 10,
  };
}

function dominantShareOf(alloc: ResourceVector | undefined, capacity: ResourceVector): number {
  if (alloc === undefined) return 0;
  let s = 0;
  for (let k = 0; k < capacity.length; k++) if (capacity[k] > 0) s = Math.max(s, alloc[k] / capacity[k]);
  return s;
}

function round(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v * 10_000) / 10_000]));
}

/** `job/group/index` → job and group (task ids are built by expandTasks). */
function taskParts(taskId: string): { job: string; group: string } {
  const b = taskId.lastIndexOf('/');
  const a = b > 0 ? taskId.lastIndexOf('/', b - 1) : -1;
  return a > 0 ? { job: taskId.slice(0, a), group: taskId.slice(a + 1, b) } : { job: taskId, group: '' };
}

export async function experimentFairness(ctx: { log: (l: string) => void }): Promise<void> {
  ctx.log('(fairness) google2011 users in 4 queues, load 2 of 1,000 nodes, q3 silent for the first quarter: DRF vs FIFO');
  const runs: FairnessRun[] = [];
  for (const order of ['drf', 'fifo'] as const) {
    const r = await runOne(order);
    ctx.log(`  ${order}: Jain mean ${r.jain_mean} min ${r.jain_min}, q3 to 90% of guarantee ${r.late_queue_to_guarantee_s ?? 'never'} s, ${r.conflicts} refused claims (${r.wall_s} s wall)`);
    runs.push(r);
  }
  const setup = { trace: 'google2011', nodes: NODES, load: LOAD, window_s: WINDOW_S, queues: QUEUES, late_queue: LATE_QUEUE, late_from_fraction: LATE_FROM_FRACTION, sample_s: SAMPLE_S, schedulers: 8, partitions: 32, mode: 'latency-first', max_task_s: 600 };
  await mkdir(join(DOCS, 'results'), { recursive: true });
  await writeFile(join(DOCS, 'results', 'fairness.json'), `${JSON.stringify({ setup, runs: runs.map(({ wall_s: _w, ...r }) => r) }, null, 2)}\n`, 'utf8');
  const sub = `google2011 users in 4 queues (weight 1, a quarter guaranteed each), load ${LOAD} of ${NODES} nodes, N = 8`;
  await writeSvg(join(DOCS, 'plots', 'fairness-jain.svg'), await lineChart({
    title: "Jain's index of share ÷ max-min fair share", subtitle: sub, xLabel: 'time (s)', yLabel: "Jain's index (1 = all fair)",
    series: runs.map((r): Series => ({ name: r.order, points: r.samples.filter((s) => s.jain !== null).map((s) => [s.t_s, s.jain!] as const) })),
  }));
  for (const r of runs) {
    await writeSvg(join(DOCS, 'plots', `fairness-shares-${r.order}.svg`), await lineChart({
      title: `Dominant share per queue, ${r.order} ordering (q3 starts at ${r.late_from_s} s)`, subtitle: sub, xLabel: 'time (s)', yLabel: 'dominant share',
      series: QUEUES.map((q): Series => ({ name: q, points: r.samples.map((s) => [s.t_s, s.shares[q]] as const) })),
    }));
  }
}
