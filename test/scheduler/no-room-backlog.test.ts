/**
 * A backlog of jobs without room must not hold the scheduler's worker slots (kube-scheduler's
 * unschedulable queue): with 2 slots and 6 jobs that cannot fit yet ahead of it in the stream, a job
 * that fits is placed at once, while the others keep waiting (pending, not given up). Before jobs
 * waiting for room left their slot, the fitting job waited until the backlog was given up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs, startTestCell, submit, waitForJobs, type TestCell } from './harness.ts';

describe('scheduler: jobs waiting for room leave their worker slot (real NATS, sim agent)', () => {
  let cell: TestCell;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 1 });
    await cell.startSimAgent('agent-b', 2, { cpuMillis: 2000, memMib: 2000 });
    await cell.startScheduler(['--concurrency', '2', '--sync-ms', '100', '--max-wait-ms', '3600000', '--preemption', 'off']);
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  it('places a job that fits while six that do not wait', async () => {
    const task = (cpu: number) => [{ name: 't', count: 1, resources: { cpu_millis: cpu, mem_mib: 16 }, duration_s: 600 }];
    // 1.6 of each node's 2 cores taken for 10 minutes: 0.4 left on each.
    await submit(cell, { id: 'hold', tasks: [{ name: 't', count: 2, resources: { cpu_millis: 1600, mem_mib: 16 }, duration_s: 600 }] });
    await waitForJobs(cell, ['hold'], ['running'], 15_000);
    const big = Array.from({ length: 6 }, (_, i) => `big-${i}`);
    // 1.5 cores: a node could take one, but not while `hold` runs (no room now, retryable).
    for (const id of big) await submit(cell, { id, tasks: task(1500) });
    await submit(cell, { id: 'small', tasks: task(300) });
    await waitForJobs(cell, ['small'], ['running'], 15_000);
    const l = await jobs(cell, big);
    expect(l.map((j) => j.state)).toEqual(big.map(() => 'pending'));
  }, 30_000);
});

describe('scheduler: a job waiting for room wakes when a sync shows room (real NATS, sim agent)', () => {
  let cell: TestCell;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 1 });
    await cell.startSimAgent('agent-w', 1, { cpuMillis: 2000, memMib: 2000 });
    await cell.startScheduler(['--sync-ms', '100', '--max-wait-ms', '3600000', '--preemption', 'off']);
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  it('is placed as soon as the node frees, not at the end of its doubled wait', async () => {
    const whole = (seconds: number) => [{ name: 't', count: 1, resources: { cpu_millis: 2000, mem_mib: 16 }, duration_s: seconds }];
    await submit(cell, { id: 'first', tasks: whole(8) });
    await waitForJobs(cell, ['first'], ['running'], 15_000);
    const submitted = Date.now();
    await submit(cell, { id: 'next', tasks: whole(600) });
    // Its rounds without room come about 1, 2, 4 and 8 s apart (the 5th ~15 s after submit); the
    // node frees about 8 s after `first` started, and the sync showing it wakes `next` at once.
    await waitForJobs(cell, ['next'], ['running'], 20_000);
    const waitedS = (Date.now() - submitted) / 1000;
    expect(waitedS).toBeLessThan(12);
    const [first] = await jobs(cell, ['first']);
    expect(first.state).toBe('finished');
  }, 40_000);
});
