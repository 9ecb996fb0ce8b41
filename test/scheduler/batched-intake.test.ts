/**
 * Jobs many to a message over real NATS: `tessera submit`'s publisher sends batches, two
 * scheduler replicas and cell-state pull them by room, every job ends placed exactly once (or
 * failed, for an invalid one inside a batch), every message is acked by both consumers, and the
 * same batches sent again are deduplicated by JetStream.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { JobPublisher } from '@tessera/runtime';
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, jobSpec, metric, nodes, registerNodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell } from './harness.ts';

describe('batched job intake', () => {
  let cell: TestCell;
  let replicas: ServiceProcess[];

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 4 });
    await registerNodes(cell, Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, cpu: 64_000 })));
    // A small concurrency: intake must pull by room, several fetches per replica.
    replicas = [
      await cell.startScheduler(['--index', '0', '--count', '2', '--concurrency', '16']),
      await cell.startScheduler(['--index', '1', '--count', '2', '--concurrency', '16']),
    ];
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  it('places every job of every batch exactly once, acks every message, and dedups a resubmission', async () => {
    const specs = Array.from({ length: 300 }, (_, i) => jobSpec(`b-${i}`, [{ name: 't', count: 1 + (i % 3), cpu: 100 }]));
    // An invalid job inside a batch fails alone; its batch-mates are placed.
    specs.splice(150, 0, { id: 'b-bad', tasks: [{ name: 't', count: 0, resources: { cpu_millis: 1 } }] });
    const pub = new JobPublisher(cell.nc, cell.subjects);
    await pub.publishAll(specs as { id: string }[], Date.now(), 40);
    // Single submissions (hand-back form) still flow alongside batches.
    await submit(cell, jobSpec('single-1', [{ name: 't', count: 2, cpu: 100 }]));
    expect(await pub.flush()).toEqual({ published: 301, duplicates: 0 });

    const ids = specs.filter((j) => j.id !== 'b-bad').map((j) => j.id as string);
    const placed = await waitForJobs(cell, [...ids, 'single-1'], ['placed'], 60_000);
    const tasks = placed.flatMap((j) => j.tasks);
    expect(tasks.every((t) => t.state === 'placed')).toBe(true);
    const expectedTasks = 2 + specs.reduce((a, j) => a + (j.id === 'b-bad' ? 0 : (j.tasks as { count: number }[])[0].count), 0);
    expect(tasks).toHaveLength(expectedTasks);
    const [bad] = await waitForJobs(cell, ['b-bad'], ['failed']);
    expect(bad.reason).toMatch(/count/);
    assertNoOverCommit(await nodes(cell));

    // Exactly once: the replicas' committed placements add up to the tasks, and both worked.
    const per = await Promise.all(replicas.map((r) => metric(r, 'tessera_scheduler_placements_total')));
    expect(per[0] + per[1]).toBe(expectedTasks);
    expect(per.every((p) => p > 0)).toBe(true);

    // Both consumers drained: nothing pending, nothing held unacked.
    const jsm = await jetstreamManager(cell.nc);
    await waitUntil('both consumers to ack every message', async () => {
      const [s, c] = await Promise.all([cell.subjects.jobsConsumer, cell.subjects.jobsCellStateConsumer].map((n) => jsm.consumers.info(cell.subjects.jobsStream, n)));
      return s.num_pending === 0 && s.num_ack_pending === 0 && c.num_pending === 0 && c.num_ack_pending === 0;
    }, 20_000);
    const jobsBefore = (await Promise.all(replicas.map((r) => metric(r, 'tessera_scheduler_jobs_total')))).reduce((a, b) => a + b, 0);
    expect(jobsBefore).toBe(302);

    // The same jobs in the same batches again: JetStream drops them as duplicates.
    const again = new JobPublisher(cell.nc, cell.subjects);
    await again.publishAll(specs as { id: string }[], Date.now(), 40);
    expect(await again.flush()).toEqual({ published: 0, duplicates: 301 });
  }, 90_000);
});
