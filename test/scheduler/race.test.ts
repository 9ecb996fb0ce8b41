/**
 * Two scheduler replicas racing for the same capacity with stale views (they never sync after
 * start): the committer accepts exactly one claim per free slot; the loser learns the node's
 * fresh state from the commit reply and goes elsewhere, or reports the job unschedulable.
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, metric, nodes, registerNodes, startTestCell, submit, waitForJobs, type TestCell } from './harness.ts';

function job(id: string, pool: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1000, mem_mib: 16 }, constraints: [{ label: 'pool', op: 'in', values: [pool] }], ...extra }],
  };
}

describe('scheduler: two replicas racing', () => {
  let cell: TestCell;
  let s: ServiceProcess[];

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2 });
    await registerNodes(cell, [
      { id: 'L', cpu: 1000, labels: { pool: 'slot' } },
      { id: 'P1', cpu: 1000, labels: { pool: 'pair', tier: 'gold' } },
      { id: 'P2', cpu: 1000, labels: { pool: 'pair' } },
    ]);
    const common = ['--count', '2', '--sync-ms', '3600000', '--max-wait-ms', '1500', '--mode', 'quality-first'];
    s = [await cell.startScheduler(['--index', '0', ...common]), await cell.startScheduler(['--index', '1', ...common])];
  });
  afterAll(async () => {
    await cell?.stop();
  });

  async function jobsPerScheduler(): Promise<number[]> {
    return Promise.all(s.map(async (p) => (await metric(p, 'tessera_scheduler_jobs_total')) as number));
  }
  async function conflicts(reason: string): Promise<number> {
    let n = 0;
    for (const p of s) n += await metric(p, 'tessera_scheduler_conflicts_total', { reason });
    return n;
  }

  it('gives the last free slot to exactly one of them; the other reports unschedulable', async () => {
    await Promise.all([submit(cell, job('slot-a', 'slot')), submit(cell, job('slot-b', 'slot'))]);
    const list = await waitForJobs(cell, ['slot-a', 'slot-b'], ['placed', 'unschedulable'], 20_000);
    const placed = list.filter((j) => j.state === 'placed');
    const lost = list.filter((j) => j.state === 'unschedulable');
    expect(placed).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(placed[0].tasks[0].node).toBe('L');
    expect(lost[0].reason).toBeTruthy();
    const l = (await nodes(cell)).find((n) => n.id === 'L')!;
    expect(l.allocated.cpu_millis).toBe(1000);
    assertNoOverCommit(await nodes(cell));
    // JetStream hands waiting pulls messages in turn, so each replica normally got one job; then
    // both proposed L from their stale views and the loser's claim was refused.
    const per = await jobsPerScheduler();
    if (per[0] === 1 && per[1] === 1) expect(await conflicts('resources')).toBeGreaterThanOrEqual(1);
  });

  it('sends the loser elsewhere after the refusal refreshed its view', async () => {
    const before = await conflicts('resources');
    const perBefore = await jobsPerScheduler();
    // Both prefer P1 (soft preference); only one can have it.
    const prefer = { preferences: [{ label: 'tier', op: 'in', values: ['gold'], weight: 100 }] };
    await Promise.all([submit(cell, job('pair-a', 'pair', prefer)), submit(cell, job('pair-b', 'pair', prefer))]);
    const list = await waitForJobs(cell, ['pair-a', 'pair-b'], ['placed', 'unschedulable'], 20_000);
    expect(list.map((j) => j.state)).toEqual(['placed', 'placed']);
    expect(list.map((j) => j.tasks[0].node).sort()).toEqual(['P1', 'P2']);
    assertNoOverCommit(await nodes(cell));
    const per = await jobsPerScheduler();
    if (per[0] - perBefore[0] === 1 && per[1] - perBefore[1] === 1) {
      expect(await conflicts('resources')).toBeGreaterThan(before);
      const retries = await Promise.all(s.map((p) => metric(p, 'tessera_scheduler_retries_total')));
      expect(retries[0] + retries[1]).toBeGreaterThanOrEqual(1);
    }
  });
});
