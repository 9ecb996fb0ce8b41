/**
 * Overload and recovery with N = 3 replicas over real NATS (issue 8, item 1): a burst far above
 * what the committer places per second — big jobs whose claims pile into the committer's queue,
 * all replicas in quality-first (binpack: every replica wants the same best nodes) — then low load.
 *
 * What used to happen (docs/benchmark.md, issue 8): the committer decided batches of up to 40,000
 * claims at once, holding its event loop for a second and more; its 1.5 s leader lease lapsed
 * between renewals, it stepped down and came back every few seconds, commits failed meanwhile,
 * jobs went back to the stream and were redone, and the views went stale while syncs waited
 * behind it all: a storm that went on after the load fell. What must hold now: the leader keeps
 * its lease, commits go on through the burst, no job is handed back, conflicts stay bounded, and
 * the jobs after the burst are placed fast again. Then the committer is frozen (SIGSTOP) for
 * 1.7 s — longer than its 1.5 s lease, the stall an overloaded busy machine produces — and must
 * go on leading when it wakes (nobody took the lease over), not step down and come back seconds
 * later. (Step-downs during the burst itself are reported, not asserted: on a machine at load 15+
 * the committer can still stall while a renewal is out.)
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, jobSpec, metric, metricsText, nodes, registerNodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell } from './harness.ts';

/** The upper bound (le) of the bucket holding the q-quantile of a histogram summed over all its series. */
function histogramQuantile(text: string, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  for (const [bound, count] of sorted) if (count >= q * total) return bound;
  return Infinity;
}

const REPLICAS = 3;
const BURST = 40;
const TASKS = 1_000;
const LATE = 10;

describe('scheduler: a burst far above saturation, then low load (3 replicas)', () => {
  let cell: TestCell;
  let s: ServiceProcess[];

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 16 });
    // 300 nodes of 16 cores: the burst takes 40 × 1,000 × 100 millicores = 4,000 cores of 4,800, so
    // the replicas' binpack choices collide more and more as the nodes fill.
    await registerNodes(cell, Array.from({ length: 300 }, (_, i) => ({ id: `n${String(i).padStart(4, '0')}`, cpu: 16_000, mem: 1 << 20 })));
    const common = ['--count', String(REPLICAS), '--mode', 'quality-first', '--max-wait-ms', '120000'];
    s = await Promise.all(Array.from({ length: REPLICAS }, (_, i) => cell.startScheduler(['--index', String(i), ...common])));
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  const claims = (outcome: string) => metric(cell.cellState, 'tessera_commit_claims_total', { outcome });
  const sumOver = async (name: string, labels: Record<string, string> = {}) => (await Promise.all(s.map((p) => metric(p, name, labels)))).reduce((a, b) => a + b, 0);

  it('commits through the burst, hands nothing back, keeps its lease through a stall, and places later jobs fast again', async () => {
    const stepDownsBefore = await metric(cell.cellState, 'tessera_cell_role_changes_total', { role: 'demoting' });
    const t0 = Date.now();
    const burst = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    await Promise.all(burst.map((id) => submit(cell, jobSpec(id, [{ name: 't', count: TASKS, cpu: 100 }]))));
    // Commits every second until the burst is placed: a stalled or deposed committer shows as a gap.
    const total = BURST * TASKS;
    let last = await claims('committed');
    let stalls = 0;
    while (last < total && Date.now() - t0 < 40_000) {
      await new Promise((r) => setTimeout(r, 1_000));
      const now = await claims('committed');
      if (now === last && now > 0) stalls++;
      last = now;
    }
    const drainedS = (Date.now() - t0) / 1000;
    const committed = await claims('committed');
    const rejected = await claims('rejected');
    const stepDowns = (await metric(cell.cellState, 'tessera_cell_role_changes_total', { role: 'demoting' })) - stepDownsBefore;
    const requeued = await sumOver('tessera_scheduler_jobs_total', { outcome: 'requeued' });
    const resends = await sumOver('tessera_scheduler_commit_resends_total');
    const staleness = await Promise.all(s.map(async (p) => histogramQuantile(await metricsText(p), 'tessera_scheduler_partition_staleness_seconds', 0.99)));
    const syncP99 = await Promise.all(s.map(async (p) => histogramQuantile(await metricsText(p), 'tessera_scheduler_sync_seconds', 0.99)));
    process.stderr.write(`overload: burst of ${total} claims placed in ${drainedS.toFixed(1)} s; committed ${committed}, rejected ${rejected} (${(rejected / Math.max(1, committed)).toFixed(3)}); `
      + `seconds without a commit ${stalls}; leader step-downs ${stepDowns}; jobs handed back ${requeued}; commit resends ${resends}; staleness p99 ${staleness.map((x) => x.toFixed(3)).join('/')} s; sync p99 ${syncP99.map((x) => x.toFixed(3)).join('/')} s\n`);
    const listed = await waitForJobs(cell, burst, ['placed', 'unschedulable'], 15_000);
    expect(listed.filter((j) => j.state !== 'placed').map((j) => `${j.id}: ${j.reason}`)).toEqual([]);
    expect(requeued).toBe(0);
    // Bounded conflicts: fewer refused claims than committed ones (the storm refused up to 100 per placement).
    expect(rejected / committed).toBeLessThan(1);

    // The committer stalls past its lease (frozen 2.5 s, as an overloaded machine stalls it): on
    // waking it renews the lease (nobody took it over) and goes on leading, no step-down. (1.7 s,
    // barely past the 1.5 s lease, and 5 s to log it were too tight for a loaded CI run once.)
    const before = await metric(cell.cellState, 'tessera_cell_role_changes_total', { role: 'demoting' });
    cell.cellState.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 2_500));
    cell.cellState.child.kill('SIGCONT');
    await waitUntil('the lease renewed after the stall', async () => cell.cellState.logs().some((l) => String(l.msg).startsWith('the lease ran out while this cell-state stalled')), 15_000);
    expect((await metric(cell.cellState, 'tessera_cell_role_changes_total', { role: 'demoting' })) - before).toBe(0);

    // Low load after the burst: jobs placed quickly again (each ≤ 1 s from submit to commit).
    const late = Array.from({ length: LATE }, (_, i) => `late-${i}`);
    for (const id of late) {
      await submit(cell, jobSpec(id, [{ name: 't', count: 4, cpu: 100 }]));
      await new Promise((r) => setTimeout(r, 100));
    }
    const lateListed = await waitForJobs(cell, late, ['placed', 'unschedulable'], 10_000);
    const delays = lateListed.map((j) => (j.placedAt ?? Infinity) - (j.submittedAt ?? 0)).sort((a, b) => a - b);
    process.stderr.write(`overload: late delays p50 ${delays[LATE >> 1]} ms, max ${delays[LATE - 1]} ms\n`);
    expect(lateListed.every((j) => j.state === 'placed')).toBe(true);
    expect(delays[LATE - 1]).toBeLessThan(1_000);
    assertNoOverCommit(await nodes(cell));
  }, 60_000);
});
