/**
 * A gang (all-or-nothing) job commits all its tasks in one transaction or none (DESIGN §5.3).
 * The scheduler runs with a view that never syncs after start, and the test commits a foreign
 * claim behind its back, so its first proposal for the gang is refused by the committer.
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoOverCommit, foreignCommit, jobs, jobSpec, metric, nodes, registerNodes, startTestCell, submit, waitForJobs, type TestCell,
} from './harness.ts';

describe('scheduler: gang jobs', () => {
  let cell: TestCell;
  let s: ServiceProcess;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2 });
    await registerNodes(cell, [{ id: 'A', cpu: 1000 }, { id: 'B', cpu: 1000 }]);
    // Syncs every partition once an hour: after the bootstrap the view only learns from commit replies.
    s = await cell.startScheduler(['--sync-ms', '3600000', '--max-wait-ms', '1500', '--mode', 'quality-first']);
  });
  afterAll(async () => {
    await cell?.stop();
  });

  it('commits none of a gang when one of its claims is refused', async () => {
    const blocked = await foreignCommit(cell, 'blocker-txn', [{ taskId: 'blocker/t/0', jobId: 'blocker', nodeId: 'A', demand: [1000, 0, 0, 0], seenVersion: 0 }]);
    expect(blocked.committed).toEqual(['blocker/t/0']);

    // The stale view believes A and B are empty: one task on each, in one all-or-nothing txn.
    await submit(cell, jobSpec('gang-none', [{ name: 'g', count: 2, cpu: 1000 }], { gang: true }));
    const [job] = await waitForJobs(cell, ['gang-none'], ['unschedulable'], 15_000);
    expect(job.tasks.map((t) => t.state)).toEqual(['pending', 'pending']);
    expect(job.reason).toBeTruthy();

    const b = (await nodes(cell)).find((n) => n.id === 'B')!;
    expect(b.allocated.cpu_millis ?? 0).toBe(0); // B's claim was not committed on its own
    expect(await metric(s, 'tessera_scheduler_conflicts_total', { reason: 'resources' })).toBeGreaterThanOrEqual(1);
    expect(await metric(s, 'tessera_scheduler_conflicts_total', { reason: 'gang_aborted' })).toBeGreaterThanOrEqual(1);
    expect(await metric(s, 'tessera_scheduler_placements_total')).toBe(0);
  });

  it('commits all tasks of a gang that fits, in one go', async () => {
    await submit(cell, jobSpec('gang-all', [{ name: 'g', count: 2, cpu: 500 }], { gang: true }));
    const [job] = await waitForJobs(cell, ['gang-all'], ['placed'], 15_000);
    expect(job.tasks.map((t) => t.node)).toEqual(['B', 'B']);
    expect(await metric(s, 'tessera_scheduler_placements_total')).toBe(2);
    assertNoOverCommit(await nodes(cell));
  });

  it('never commits part of a gang when only some of it fits', async () => {
    // Both nodes are full now; a gang of 3 small tasks cannot be placed at all.
    await submit(cell, jobSpec('gang-three', [{ name: 'g', count: 3, cpu: 10 }], { gang: true }));
    const [job] = await waitForJobs(cell, ['gang-three'], ['unschedulable'], 15_000);
    expect(job.tasks.every((t) => t.state === 'pending')).toBe(true);
    const [again] = await jobs(cell, ['gang-all']);
    expect(again.state).toBe('placed');
  });
});
