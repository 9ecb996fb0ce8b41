/**
 * Preemption when the running tasks do not fit one sync reply (real NATS, sim agent). A scheduler
 * starts reading running tasks only when a task that could preempt finds no room: it then asks
 * every partition for a snapshot with tasks. Here the server's message limit (64 KiB) is below
 * what the tasks of all four partitions take, so the cell-state cuts the reply to the partitions that
 * fit. The partitions left out must be asked for again: the later rounds ask for deltas, which
 * carry only nodes that changed, and a full node that never changes would keep its victims
 * unseen (at 1,000 nodes this left every production job of the burst unplaced). The fill also
 * needs the commit pipeline to split a batch of transactions larger than the limit (it resent
 * the same too-large request until it gave up).
 */
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoOverCommit, jobs, metric, nodes, startTestCell, submit, waitForJobs, type TestCell } from './harness.ts';

const NO_MIN_RUNTIME = ['--preemption-min-runtime-s', '0'];
const NODES = 64;
const TASKS_PER_NODE = 20;

describe('preemption with running tasks larger than one message (real NATS, sim agent)', () => {
  let cell: TestCell;
  let scheduler: ServiceProcess;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 4, cellStateArgs: NO_MIN_RUNTIME, natsConfig: 'max_payload: 64KB' });
    await cell.startSimAgent('agent-l', NODES, { cpuMillis: 1000, memMib: 1000, heartbeatMs: 500 });
    scheduler = await cell.startScheduler(['--sync-ms', '100', ...NO_MIN_RUNTIME]);
  }, 60_000);

  afterAll(async () => {
    await cell?.stop();
  });

  it('asks again for the partitions a cut sync reply left out, and preempts on all of them', async () => {
    // Every node full with twenty preemptible tasks of 50 millicores, in jobs of 40 tasks.
    const fill: string[] = [];
    for (let i = 0; i < (NODES * TASKS_PER_NODE) / 40; i++) {
      const id = `fill-${i}`;
      fill.push(id);
      await submit(cell, { id, queue: 'batch', priority: 0, preemptible: true, tasks: [{ name: 't', count: 40, resources: { cpu_millis: 50, mem_mib: 8 }, duration_s: 600 }] });
    }
    // In pages of 8 jobs: a listing of them all would not fit the 64 KiB limit either.
    // Generous: under a loaded CI run (two test files at once on 2 cores) the fill took over 30 s once.
    for (let i = 0; i < fill.length; i += 8) await waitForJobs(cell, fill.slice(i, i + 8), ['running'], 60_000);

    // More whole-core production tasks than two partitions have nodes: room on three at least.
    const burst = Array.from({ length: NODES / 2 + 4 }, (_, i) => `prod-${i}`);
    for (const id of burst) await submit(cell, { id, queue: 'prod', priority: 100, tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1000, mem_mib: 8 }, duration_s: 600 }] });
    const placed = await waitForJobs(cell, burst, ['placed', 'running'], 60_000);
    expect(placed).toHaveLength(burst.length);
    const list = await nodes(cell);
    assertNoOverCommit(list);
    // The scenario is the one meant: the reply with every partition's tasks was cut.
    expect(cell.cellState.logs().some((l) => l.msg === 'reply cut to fit the message size limit' && l.subject === cell.subjects.sync)).toBe(true);
    // Each production task took a whole node (its twenty victims), on three partitions at least.
    const prodNodes = new Set((await jobs(cell, burst)).flatMap((j) => j.tasks.map((t) => t.node)));
    expect(prodNodes.size).toBe(burst.length);
    expect(new Set(list.filter((n) => prodNodes.has(n.id)).map((n) => n.partition)).size).toBeGreaterThanOrEqual(3);
    expect(await metric(cell.cellState, 'tessera_preemption_victims_total', { queue: 'batch' })).toBe(burst.length * TASKS_PER_NODE);
    expect(await metric(scheduler, 'tessera_preemption_attempts_total', { outcome: 'committed' })).toBeGreaterThanOrEqual(burst.length);
  }, 180_000);
});
