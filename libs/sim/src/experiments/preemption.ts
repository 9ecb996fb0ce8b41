/**
 * `npm run experiments -- --only preemption`: google2011 with its real priorities (DESIGN §11,
 * issue 10). Production is priority ≥ 9 and not preemptible; everything below is batch and
 * preemptible. The trace (the 1,960 jobs with run times submitted inside its window, 63,853 tasks;
 * 174 production jobs, 542 tasks) is time-scaled to an offered load of 1.5 of a 200-node cell of the trace's
 * "1.0" machine (32 cores, 128 GiB): the whole trace arrives in about 46 minutes and batch keeps
 * the cell saturated (bottleneck memory at 93–99% from the fifth minute to the last arrival), so a
 * production job that fits no hole left by batch has to wait for one, or evict.
 *
 * Each configuration runs with and without the preemption post-filter (policy defaults: gap 10,
 * minimum run time 30 s, ≤ 50 preempting placements per second per replica; the committer checks
 * each eviction as cell-state does), on the same arrivals and seeds, with two dispatch orders:
 * `priority` (queue order drf over one queue: higher priority first, and jobs without room wait for
 * a task end, kube-scheduler's priority queue — the strongest baseline without preemption) and
 * `fifo` (arrival order, retries on their backoff timers). Every run checks the invariants
 * (no over-commit after any commit, every victim re-queued once and placed again or reported).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PREEMPTION_MAX_PER_SECOND } from '@tessera/policy';
import type { QueueOrder } from '@tessera/replica';
import { BUNDLED } from '@tessera/workloads';
import type { RunOptions } from '../run.ts';
import type { Summary } from '../summary.ts';
import { runAll, type PoolRun } from './pool.ts';

const RESULTS = fileURLToPath(new URL('../../../../docs/results/', import.meta.url));

export const PREEMPTION_SETUP: RunOptions = Object.freeze({
  workload: BUNDLED.google2011Jobs,
  nodes: 200,
  load: 1.5,
  productionPriority: 9,
  schedulers: 8,
  partitions: 32,
  syncIntervalMs: 1000,
  granularity: 'fine',
  mode: 'latency-first',
  maxTaskDurationS: 600,
  defaultTaskDurationS: 60,
  warmupS: 0,
  retry: { maxWaitMs: Infinity, conflictWindowMs: Infinity },
  check: true,
});

const SEEDS = [1, 2, 3];
const ORDERS: readonly { name: string; queueOrder: QueueOrder }[] = [
  { name: 'priority', queueOrder: 'drf' },
  { name: 'fifo', queueOrder: 'fifo' },
];

const r3 = (x: number) => Math.round(x * 1000) / 1000;
/** ms → s, to the ms. */
const s1 = (ms: number) => Math.round(ms) / 1000;

/** The figures of one run the document quotes (delays in s). */
function rowOf(s: Summary, order: string, preemption: boolean, seed: number): Record<string, unknown> {
  const prod = s.delay_by_class!.production;
  const batch = s.delay_by_class!.batch;
  const p = s.preemption;
  const inv = s.invariants!;
  return {
    order, preemption, seed,
    production_jobs: prod.jobs_placed, production_tasks: prod.tasks_placed, production_unschedulable: prod.unschedulable,
    production_delay_s: { p50: s1(prod.delay_ms.p50), p90: s1(prod.delay_ms.p90), p99: s1(prod.delay_ms.p99), max: s1(prod.delay_ms.max), mean: s1(prod.delay_ms.mean) },
    batch_jobs: batch.jobs_placed,
    batch_delay_s: { p50: s1(batch.delay_ms.p50), p90: s1(batch.delay_ms.p90), p99: s1(batch.delay_ms.p99), max: s1(batch.delay_ms.max) },
    evictions: p?.evictions ?? 0,
    preemptor_tasks: p?.preemptor_tasks ?? 0,
    victims_per_preemptor_task: p?.victims_per_preemptor ?? 0,
    victims_per_production_task: r3((p?.evictions ?? 0) / Math.max(1, prod.tasks_placed)),
    victims_placed_again: p?.placed_again ?? 0,
    victims_given_up: p?.given_up ?? 0,
    victims_pending_at_end: p?.pending_at_end ?? 0,
    victim_replace_delay_s: p === undefined ? null : { p50: s1(p.replace_delay_ms.p50), p99: s1(p.replace_delay_ms.p99), max: s1(p.replace_delay_ms.max) },
    victims_lost_task_s: p?.lost_task_s ?? 0,
    utilization: s.utilization,
    conflict_fraction: s.conflict_fraction,
    invariant_violations: Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, v.count])),
    first_violations: Object.values(inv).flatMap((v) => v.first).slice(0, 5),
    sim_time_s: s.sim_time_s,
  };
}

export async function experimentPreemption(ctx: { workers: number; log: (l: string) => void }): Promise<void> {
  ctx.log('(preemption) google2011, production (priority ≥ 9) vs preemptible batch, load 1.5 of 200 nodes: with and without preemption');
  const runs: PoolRun[] = [];
  const keys: { order: string; preemption: boolean; seed: number }[] = [];
  for (const o of ORDERS) {
    for (const preemption of [false, true]) {
      for (const seed of SEEDS) {
        runs.push({ label: `preemption ${o.name} ${preemption ? 'on' : 'off'} seed ${seed}`, options: { ...PREEMPTION_SETUP, queueOrder: o.queueOrder, seed, ...(preemption ? { preemption: {} } : {}) } });
        keys.push({ order: o.name, preemption, seed });
      }
    }
  }
  const res = await runAll(runs, ctx.workers, ctx.log);
  const rows = res.map((s, i) => rowOf(s, keys[i].order, keys[i].preemption, keys[i].seed));
  for (const r of rows) {
    const d = r.production_delay_s as Record<string, number>;
    const b = r.batch_delay_s as Record<string, number>;
    ctx.log(`  ${String(r.order)} preemption ${r.preemption ? 'on ' : 'off'} seed ${String(r.seed)}: production p50 ${d.p50} s p99 ${d.p99} s max ${d.max} s; batch p50 ${b.p50} s p99 ${b.p99} s; ${String(r.evictions)} evictions, ${String(r.victims_per_production_task)} per production task; violations ${JSON.stringify(r.invariant_violations)}`);
  }
  const { check: _check, ...setup } = PREEMPTION_SETUP;
  await mkdir(RESULTS, { recursive: true });
  await writeFile(join(RESULTS, 'preemption-sim.json'), `${JSON.stringify({
    setup: { ...setup, trace: 'google2011', orders: Object.fromEntries(ORDERS.map((o) => [o.name, { queueOrder: o.queueOrder }])), seeds: SEEDS, preemption_args: `policy defaults: priorityGap 10, minRuntimeS 30, maxCandidates 100, maxPerSecond ${DEFAULT_PREEMPTION_MAX_PER_SECOND} (per replica)` },
    rows,
    summaries: res,
  }, null, 2)}\n`, 'utf8');
}
