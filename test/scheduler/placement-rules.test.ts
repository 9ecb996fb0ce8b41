/**
 * Placement rules over real NATS (DESIGN §12): two replicas with views that never sync after
 * start, so neither sees the other's placements; the committer's placement-rules check is what
 * keeps the rules. Two anti-affine jobs submitted at once end in different zones; a job spread
 * over zones with max skew 1 and one with distinct nodes hold their rules; nothing over-commits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, foreignCommit, metric, nodes, registerNodes, startTestCell, submit, waitForJobs, type TestCell } from './harness.ts';
import type { ServiceProcess } from '@tessera/testkit';

const ZONES: Record<string, string> = { n0: 'a', n1: 'a', n2: 'b', n3: 'b', n4: 'c', n5: 'c' };

describe('placement rules: two replicas racing (real NATS)', () => {
  let cell: TestCell;
  let s: ServiceProcess[];

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2 });
    await registerNodes(cell, Object.entries(ZONES).map(([id, zone]) => ({ id, cpu: 8000, labels: { zone } })));
    // Views refreshed only by commit replies and the refetch of refused nodes' partitions: the
    // replicas do not see each other's placements before they propose.
    const common = ['--count', '2', '--mode', 'quality-first', '--max-wait-ms', '20000', '--sync-ms', '3600000'];
    s = [await cell.startScheduler(['--index', '0', ...common]), await cell.startScheduler(['--index', '1', ...common])];
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  const group = (count: number, extra: Record<string, unknown>) => [{ name: 'g', count, resources: { cpu_millis: 500, mem_mib: 16 }, ...extra }];

  it('keeps two anti-affine jobs submitted at once in different zones', async () => {
    for (let round = 0; round < 3; round++) {
      const web = `web-${round}`;
      const db = `db-${round}`;
      await Promise.all([
        submit(cell, { id: web, tasks: group(1, { anti_affinity: [{ job: db, label: 'zone' }] }) }),
        submit(cell, { id: db, tasks: group(1, { anti_affinity: [{ job: web, label: 'zone' }] }) }),
      ]);
      const [w, d] = await waitForJobs(cell, [web, db], ['placed', 'running'], 30_000);
      expect(ZONES[w.tasks[0].node!]).not.toBe(ZONES[d.tasks[0].node!]);
    }
    assertNoOverCommit(await nodes(cell));
  }, 120_000);

  it('spreads a job over the zones with max skew 1, and a distinct job takes one node per task', async () => {
    await Promise.all([
      submit(cell, { id: 'spread', tasks: group(9, { spread: { label: 'zone', max_skew: 1 } }) }),
      submit(cell, { id: 'distinct', tasks: group(6, { distinct: { label: 'node' } }) }),
    ]);
    const [sp, di] = await waitForJobs(cell, ['spread', 'distinct'], ['placed', 'running'], 30_000);
    const perZone = new Map<string, number>();
    for (const t of sp.tasks) perZone.set(ZONES[t.node!], (perZone.get(ZONES[t.node!]) ?? 0) + 1);
    expect([...perZone.values()].sort()).toEqual([3, 3, 3]);
    expect(new Set(di.tasks.map((t) => t.node)).size).toBe(6);
    assertNoOverCommit(await nodes(cell));
  }, 60_000);

  it('refuses a stale view\'s claim into the zone of an anti-affine job, and the job goes elsewhere', async () => {
    // Another scheduler (the test) puts db-x on n0 in zone a; the replicas' views never heard of it.
    const r = await foreignCommit(cell, 'foreign-db', [{ taskId: 'db-x/g/0', jobId: 'db-x', nodeId: 'n0', demand: [500, 16, 0, 0], seenVersion: 0 }]);
    expect(r.committed).toEqual(['db-x/g/0']);
    const before = await metric(cell.cellState, 'tessera_commit_conflicts_total', { reason: 'placement_rule' });
    // web-x prefers zone a (where its stale view shows room) but must not share a zone with db-x.
    await submit(cell, { id: 'web-x', tasks: group(1, { anti_affinity: [{ job: 'db-x', label: 'zone' }], preferences: [{ label: 'zone', op: 'in', values: ['a'], weight: 100 }] }) });
    const [w] = await waitForJobs(cell, ['web-x'], ['placed', 'running'], 30_000);
    expect(ZONES[w.tasks[0].node!]).not.toBe('a');
    expect(await metric(cell.cellState, 'tessera_commit_conflicts_total', { reason: 'placement_rule' })).toBeGreaterThan(before);
    const given = await Promise.all(s.map((p) => metric(p, 'tessera_scheduler_jobs_total', { outcome: 'unschedulable' })));
    expect(given.reduce((a, b) => a + b, 0)).toBe(0);
  }, 60_000);
});
