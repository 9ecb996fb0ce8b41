/**
 * Preemption end to end over real NATS (DESIGN §11): a cell saturated by preemptible and
 * low-priority batch work, then a burst of high-priority jobs from another queue. Every
 * high-priority job is placed by evicting victims (preemptible ones first); the victims are
 * stopped by their agent, handed back, and placed again once room frees; no node is ever
 * over-committed.
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, jobs, metric, nodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell } from './harness.ts';

const NO_MIN_RUNTIME = ['--preemption-min-runtime-s', '0'];

/** A job of `count` tasks of one core each, lasting `seconds` on the sim agent. */
const job = (id: string, count: number, seconds: number, extra: Record<string, unknown>) =>
  ({ id, tasks: [{ name: 't', count, resources: { cpu_millis: 1000, mem_mib: 16 }, duration_s: seconds }], ...extra });

describe('preemption (real NATS, sim agent)', () => {
  let cell: TestCell;
  let scheduler: ServiceProcess;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2, cellStateArgs: NO_MIN_RUNTIME });
    await cell.startSimAgent('agent-p', 4, { cpuMillis: 1000, memMib: 1000 });
    scheduler = await cell.startScheduler(['--sync-ms', '100', ...NO_MIN_RUNTIME]);
  }, 60_000);

  afterAll(async () => {
    await cell?.stop();
  });

  it('places a burst of high-priority jobs by evicting the right victims, which are placed again later', async () => {
    const fill = (id: string, extra: Record<string, unknown>) => submit(cell, job(id, 2, 600, { queue: 'batch', ...extra }));
    await fill('spare', { preemptible: true, priority: 500 });
    await fill('batch', { priority: 10 });
    await waitForJobs(cell, ['spare', 'batch'], ['running'], 20_000);
    assertNoOverCommit(await nodes(cell));

    // Three high-priority tasks that end after 2 s: room for them only by preemption.
    const burst = ['prod-0', 'prod-1', 'prod-2'];
    for (const id of burst) await submit(cell, job(id, 1, 2, { queue: 'prod', priority: 100 }));
    const placed = await waitForJobs(cell, burst, ['placed', 'running', 'finished'], 20_000);
    expect(placed.map((j) => j.state).every((s) => s !== 'pending')).toBe(true);
    assertNoOverCommit(await nodes(cell));

    // Preemptible tasks went first (both), then one batch task; each counted once.
    const victims = await jobs(cell, ['spare', 'batch']);
    const preempted = victims.flatMap((j) => j.tasks.filter((t) => (t.preemptions ?? 0) > 0).map((t) => [t.id, t.preemptions]));
    expect(preempted.filter(([id]) => String(id).startsWith('spare/'))).toHaveLength(2);
    expect(preempted).toHaveLength(3);
    expect(preempted.every(([, n]) => n === 1)).toBe(true);

    // The burst ends; every victim is placed again (exactly once, nothing over-committed).
    const again = await waitUntil('every victim placed again', async () => {
      const js = await jobs(cell, ['spare', 'batch']);
      return js.every((j) => j.tasks.every((t) => t.state === 'running' || t.state === 'placed')) ? js : undefined;
    }, 30_000, 200);
    expect(again.flatMap((j) => j.tasks).filter((t) => (t.preemptions ?? 0) > 0)).toHaveLength(3);
    assertNoOverCommit(await nodes(cell));
    expect(await metric(cell.cellState, 'tessera_preemption_victims_total', { queue: 'batch' })).toBe(3);
    expect(await metric(scheduler, 'tessera_preemption_attempts_total', { outcome: 'committed' })).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
