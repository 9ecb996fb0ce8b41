/**
 * The path of a job through one scheduler replica against a real cell-state: submitted to the
 * stream → placed → committed; a job larger than any node; an invalid job.
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNoOverCommit, health, jobs, jobSpec, metric, nodes, registerNodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell,
} from './harness.ts';

describe('scheduler: the path of a job', () => {
  let cell: TestCell;
  let s: ServiceProcess;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 4 });
    await registerNodes(cell, Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, cpu: 4000, labels: { zone: i % 2 ? 'a' : 'b' } })));
    s = await cell.startScheduler(['--index', '0', '--count', '1', '--max-wait-ms', '3000']);
  });
  afterAll(async () => {
    await cell?.stop();
  });

  it('reports healthy with a bootstrapped view', async () => {
    const h = await health(s);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ ok: true, partitions: 4, viewNodes: 8, mode: 'latency-first' });
  });

  it('places every task of submitted jobs, commits them, and never over-commits a node', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `path-${i}`);
    for (const id of ids) await submit(cell, jobSpec(id, [{ name: 'web', count: 3, cpu: 250 }, { name: 'db', count: 2, cpu: 250 }]));
    const list = await waitForJobs(cell, ids, ['placed']);
    const tasks = list.flatMap((j) => j.tasks);
    expect(tasks).toHaveLength(100);
    expect(tasks.every((t) => t.state === 'placed' && typeof t.node === 'string')).toBe(true);

    const ns = await nodes(cell);
    assertNoOverCommit(ns);
    expect(ns.reduce((a, n) => a + (n.allocated.cpu_millis ?? 0), 0)).toBe(100 * 250);

    expect(await metric(s, 'tessera_scheduler_placements_total')).toBe(100);
    expect(await metric(s, 'tessera_scheduler_jobs_total', { outcome: 'placed' })).toBe(20);
    expect(await metric(s, 'tessera_scheduler_job_delay_seconds_count')).toBe(20);
    expect(await metric(s, 'tessera_scheduler_partition_staleness_seconds_count')).toBeGreaterThanOrEqual(100);
    expect(await metric(s, 'tessera_scheduler_sync_seconds_count')).toBeGreaterThan(0);
    expect(await metric(s, 'tessera_scheduler_sync_bytes_total')).toBeGreaterThan(0);
    expect(await metric(s, 'tessera_scheduler_mode', { mode: 'latency-first' })).toBe(1);
  });

  it('reports a job larger than any node unschedulable at once, with a reason and without retries', async () => {
    const retriesBefore = await metric(s, 'tessera_scheduler_retries_total');
    const conflictsBefore = await metric(s, 'tessera_scheduler_conflicts_total');
    const t0 = Date.now();
    await submit(cell, jobSpec('huge-1', [{ name: 'big', count: 3, cpu: 64_000 }]));
    const [job] = await waitForJobs(cell, ['huge-1'], ['unschedulable'], 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000); // no waiting out the 3 s no-room limit, let alone retries
    expect(job.reason).toMatch(/larger than any node/);
    expect(job.tasks.every((t) => t.state === 'pending')).toBe(true);
    // Give a retry storm the chance to show up before checking it did not.
    await new Promise((r) => setTimeout(r, 500));
    expect(await metric(s, 'tessera_scheduler_retries_total')).toBe(retriesBefore);
    expect(await metric(s, 'tessera_scheduler_conflicts_total')).toBe(conflictsBefore);
    expect(await metric(s, 'tessera_scheduler_jobs_total', { outcome: 'unschedulable' })).toBe(1);
  });

  it('reports an invalid job failed, naming the bad field', async () => {
    await submit(cell, { id: 'bad-1', tasks: [{ name: 'a', count: 1, resources: { cpu_millis: -5 } }] });
    const [job] = await waitForJobs(cell, ['bad-1'], ['failed'], 10_000);
    expect(job.reason).toMatch(/tasks\[0\]\.resources\.cpu_millis/);
    await waitUntil('the scheduler to count the failed job', async () => (await metric(s, 'tessera_scheduler_jobs_total', { outcome: 'failed' })) === 1, 5_000);
  });

  it('places only the remaining tasks of a job handed back with a task list', async () => {
    await submit(cell, jobSpec('partial-1', [{ name: 'w', count: 4, cpu: 100 }]), { tasks: ['partial-1/w/1', 'partial-1/w/3'], attempt: 1 });
    await waitUntil('two tasks of partial-1 to be placed', async () => {
      const [j] = await jobs(cell, ['partial-1']);
      return j !== undefined && j.tasks.filter((t) => t.state === 'placed').length === 2 ? j : undefined;
    }, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const [j] = await jobs(cell, ['partial-1']);
    expect(j.tasks.filter((t) => t.state === 'placed').map((t) => t.id).sort()).toEqual(['partial-1/w/1', 'partial-1/w/3']);
  });
});
