/**
 * Back-pressure is visible: jobs that cannot be placed yet wait in the JetStream jobs stream, and
 * every scheduler reports them as `tessera_scheduler_backlog_jobs` and the age of the oldest as
 * `tessera_scheduler_oldest_pending_seconds`; both fall back to 0 once the jobs are placed.
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSpec, metric, registerNodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell } from './harness.ts';

describe('scheduler: the jobs backlog as metrics', () => {
  let cell: TestCell;
  let s: ServiceProcess;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2 });
    await registerNodes(cell, [{ id: 'first', cpu: 4_000 }]);
    s = await cell.startScheduler(['--sync-ms', '100', '--max-wait-ms', '60000']);
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  it('reports jobs waiting for room, and their age, until they are placed', async () => {
    // The node is full (nodes registered by the test run nothing, so the filler never ends):
    // the next jobs fit the node's capacity but find no room now, and wait.
    await submit(cell, jobSpec('filler', [{ name: 't', count: 1, cpu: 4_000 }]));
    await waitForJobs(cell, ['filler'], ['placed'], 15_000);
    const ids = Array.from({ length: 5 }, (_, i) => `wait-${i}`);
    for (const id of ids) await submit(cell, jobSpec(id, [{ name: 't', count: 1, cpu: 4_000 }]));
    await waitUntil('the backlog gauge to show the waiting jobs', async () => (await metric(s, 'tessera_scheduler_backlog_jobs')) === ids.length, 15_000, 200);
    await waitUntil('the oldest job to be seen waiting', async () => (await metric(s, 'tessera_scheduler_oldest_pending_seconds')) >= 1, 15_000, 200);
    await registerNodes(cell, [{ id: 'big', cpu: 64_000 }], 'agent-big');
    await waitForJobs(cell, ids, ['placed'], 30_000);
    await waitUntil('the backlog gauges back at 0', async () => (await metric(s, 'tessera_scheduler_backlog_jobs')) === 0 && (await metric(s, 'tessera_scheduler_oldest_pending_seconds')) === 0, 15_000, 200);
    expect(await metric(s, 'tessera_scheduler_backlog_jobs')).toBe(0);
  }, 60_000);
});
