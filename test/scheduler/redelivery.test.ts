/**
 * A replica dies (kill -9) holding a job it placed only in part: the job message was never acked,
 * so JetStream redelivers it (after the consumer's 30 s ack wait) to another replica, which
 * finishes the job. The tasks already committed come back as `duplicate_task` and count as
 * placed: no task is placed twice (DESIGN §5.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, jobs, jobSpec, metric, nodes, registerNodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell } from './harness.ts';

describe('scheduler: redelivery after a crash', () => {
  let cell: TestCell;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2 });
    await registerNodes(cell, [{ id: 'R1', cpu: 600 }]);
  });
  afterAll(async () => {
    await cell?.stop();
  });

  it('lets another replica finish the job without placing any task twice', async () => {
    // Keeps waiting for room (well past the test) instead of giving up on the 4 tasks that do not fit.
    const first = await cell.startScheduler(['--max-wait-ms', '600000', '--id', 'first']);
    await submit(cell, jobSpec('redo', [{ name: 'w', count: 10, cpu: 100 }]));
    await waitUntil('6 of 10 tasks to be committed', async () => {
      const [j] = await jobs(cell, ['redo']);
      return j !== undefined && j.tasks.filter((t) => t.state === 'placed').length === 6;
    }, 15_000);
    expect(await metric(first, 'tessera_scheduler_placements_total')).toBe(6);
    const [half] = await jobs(cell, ['redo']);
    expect(half.state).toBe('pending');

    await first.kill('SIGKILL');
    await registerNodes(cell, [{ id: 'R2', cpu: 1000 }]);
    const second = await cell.startScheduler(['--id', 'second']);

    const [done] = await waitForJobs(cell, ['redo'], ['placed'], 70_000);
    const byNode = new Map<string, number>();
    for (const t of done.tasks) byNode.set(t.node!, (byNode.get(t.node!) ?? 0) + 1);
    expect(Object.fromEntries(byNode)).toEqual({ R1: 6, R2: 4 });

    const ns = await nodes(cell);
    assertNoOverCommit(ns);
    expect(ns.find((n) => n.id === 'R1')!.allocated.cpu_millis).toBe(600);
    expect(ns.find((n) => n.id === 'R2')!.allocated.cpu_millis).toBe(400);

    expect(await metric(second, 'tessera_scheduler_placements_total')).toBe(4);
    expect(await metric(second, 'tessera_scheduler_conflicts_total', { reason: 'duplicate_task' })).toBe(6);
    expect(await metric(second, 'tessera_scheduler_jobs_total', { outcome: 'placed' })).toBe(1);
    expect(second.logs().some((l) => l.msg?.startsWith('job redelivered'))).toBe(true);
  });

  it('hands unfinished jobs back at once on a graceful stop (no wait for the ack deadline)', async () => {
    // R2 has 600 free: 6 of the 10 tasks fit, the replica holds the job waiting for room.
    const holder = cell.schedulers[cell.schedulers.length - 1];
    await submit(cell, jobSpec('drained', [{ name: 'w', count: 10, cpu: 100 }]));
    await waitUntil('6 of 10 tasks to be committed', async () => {
      const [j] = await jobs(cell, ['drained']);
      return j !== undefined && j.tasks.filter((t) => t.state === 'placed').length === 6;
    }, 15_000);
    const status = await holder.stop();
    expect(status.code).toBe(128 + 15);
    expect(holder.logs().some((l) => l.msg === 'lifecycle' && l.to === 'stopped')).toBe(true);

    await registerNodes(cell, [{ id: 'R3', cpu: 1000 }]);
    const t0 = Date.now();
    const next = await cell.startScheduler(['--id', 'third']);
    const [done] = await waitForJobs(cell, ['drained'], ['placed'], 20_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(done.tasks.filter((t) => t.node === 'R3')).toHaveLength(4);
    expect(await metric(next, 'tessera_scheduler_conflicts_total', { reason: 'duplicate_task' })).toBe(6);
    assertNoOverCommit(await nodes(cell));
  });
});
