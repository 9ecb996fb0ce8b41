/**
 * Node agents: ownership (DESIGN §5.7), heartbeat reconciliation (unknown nodes, tasks to stop,
 * missing assignments after a grace period), and liveness: a silent node is marked lost, its
 * allocations released and its tasks handed back to the schedulers on the jobs stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { decodeAs, jobSubmission, type JobSubmission } from '@tessera/protocol';
import { claim, eventually, startEnv, stopEnv, txn, type Env } from './helpers.ts';

describe('cell-state and node agents', () => {
  let env: Env;
  let beat: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    env = await startEnv(['--heartbeat-timeout-ms', '1500', '--assign-grace-ms', '300']);
  });
  afterAll(async () => {
    if (beat) clearInterval(beat);
    await stopEnv(env);
  });

  it('refuses an agent speaking for another agent\'s node (forbidden) and changes nothing', async () => {
    const c = env.client;
    await c.register('agent-a', [{ id: 'a1', cpu: 1000 }]);
    await c.register('agent-b', [{ id: 'b1', cpu: 1000 }]);
    // agent-b keeps beating all along; agent-a only when a test says so.
    beat = setInterval(() => void c.heartbeat('agent-b', [{ id: 'b1', tasks: [] }]).catch(() => undefined), 200);
    const v = await c.nodeVersion('a1');
    await c.commit([txn([claim('own/t/0', 'a1', { cpu: 100 }, v)])]);
    const before = { nodes: await c.nodes(), jobs: await c.jobs() };

    await expect(c.heartbeat('agent-b', [{ id: 'b1', tasks: [] }, { id: 'a1', tasks: ['own/t/0'] }]))
      .rejects.toMatchObject({ code: 'forbidden', path: 'nodes[1].id' });
    await expect(c.taskEnded('agent-b', [{ taskId: 'own/t/0', nodeId: 'a1', outcome: 'succeeded' }]))
      .rejects.toMatchObject({ code: 'forbidden', path: 'tasks[0].nodeId' });
    await expect(c.register('agent-b', [{ id: 'a1', cpu: 9999 }]))
      .rejects.toMatchObject({ code: 'forbidden', path: 'nodes[0].id' });
    // Claiming the task ended on its own node but not the node it runs on releases nothing.
    expect(await c.taskEnded('agent-b', [{ taskId: 'own/t/0', nodeId: 'b1', outcome: 'succeeded' }])).toEqual({ ok: true, released: 0 });

    expect({ nodes: await c.nodes(), jobs: await c.jobs() }).toEqual(before);
  });

  it('reconciles heartbeats: unknown nodes, tasks to stop, missing assignments after the grace period', async () => {
    const c = env.client;
    await c.submitJob({ id: 'hb', tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100 }, duration_s: 60, command: ['run'] }] });
    await eventually(async () => (await c.jobs(['hb'])).total === 1, 10_000, 'job hb');
    const v = await c.nodeVersion('a1');
    await c.commit([txn([claim('hb/t/0', 'a1', { cpu: 100 }, v), claim('hb/t/1', 'a1', { cpu: 100 }, v)])]);

    // Fresh assignments are not "missing" yet; strangers are stopped; an unknown node re-registers.
    const early = await c.heartbeat('agent-a', [{ id: 'a1', tasks: ['hb/t/0', 'stray/t/0', 'own/t/0'] }, { id: 'ghost', tasks: ['g/t/0'] }]);
    expect(early.unknownNodes).toEqual(['ghost']);
    expect(early.stopTasks.sort()).toEqual(['g/t/0', 'stray/t/0']);
    expect(early.missing).toEqual([]);

    await new Promise((r) => setTimeout(r, 400));
    const late = await c.heartbeat('agent-a', [{ id: 'a1', tasks: ['hb/t/0', 'own/t/0'] }]);
    expect(late.missing).toEqual([{ taskId: 'hb/t/1', jobId: 'hb', nodeId: 'a1', resources: { cpu_millis: 100 }, durationS: 60, command: ['run'] }]);
    expect(late.stopTasks).toEqual([]);
    await eventually(async () => (await c.jobs(['hb'])).items[0].tasks[0].state === 'running', 5_000, 'hb/t/0 running');
    expect((await c.jobs(['hb'])).items[0].tasks[1].state).toBe('placed');
  });

  it('marks a silent node lost, releases its allocations and hands its tasks back exactly once', async () => {
    const c = env.client;
    // agent-a falls silent.
    const lostNode = await eventually(async () => {
      const n = (await c.nodes(['a1'])).items[0];
      return n.state === 'lost' ? n : undefined;
    }, 10_000, 'a1 lost');
    expect(lostNode.allocated).toEqual({ cpu_millis: 0, mem_mib: 0, gpu: 0 });
    expect((await c.nodes(['b1'])).items[0].state).toBe('ready');
    const job = (await c.jobs(['hb'])).items[0];
    expect(job.state).toBe('pending');
    expect(job.tasks.map((t) => [t.state, t.node])).toEqual([['pending', undefined], ['pending', undefined]]);

    // The job is back on the jobs stream for the schedulers, with the tasks that remain.
    const js = jetstream(c.nc);
    const consumer = await js.consumers.get(c.s.jobsStream, { deliver_policy: DeliverPolicy.All });
    const handedBack: JobSubmission[] = [];
    const msgs = await consumer.fetch({ max_messages: 100, expires: 2_000 });
    for await (const m of msgs) {
      const d = decodeAs(m.data, jobSubmission);
      if (d.ok && d.value.tasks !== undefined) handedBack.push(d.value);
    }
    const hb = handedBack.filter((h) => h.job.id === 'hb');
    expect(hb).toHaveLength(1);
    expect(hb[0].tasks!.sort()).toEqual(['hb/t/0', 'hb/t/1']);
    expect(hb[0].attempt).toBe(1);
    // own/t/0 belongs to a job cell-state never read: it is handed back once that job arrives.
    expect(handedBack.some((h) => h.job.id === 'own')).toBe(false);

    // A scheduler places them again elsewhere.
    const vb = await c.nodeVersion('b1');
    const again = await c.commit([txn([claim('hb/t/0', 'b1', { cpu: 100 }, vb), claim('hb/t/1', 'b1', { cpu: 100 }, vb)])]);
    expect(again.results[0].committed).toEqual(['hb/t/0', 'hb/t/1']);

    // The lost agent comes back: its heartbeat is told to re-register; after that, its stale task is stopped.
    const stale = await c.heartbeat('agent-a', [{ id: 'a1', tasks: ['hb/t/0'] }]);
    expect(stale.unknownNodes).toEqual(['a1']);
    expect(stale.stopTasks).toEqual(['hb/t/0']);
    await c.register('agent-a', [{ id: 'a1', cpu: 1000 }]);
    expect((await c.nodes(['a1'])).items[0].state).toBe('ready');
    const back = await c.heartbeat('agent-a', [{ id: 'a1', tasks: ['hb/t/0'] }]);
    expect(back).toMatchObject({ unknownNodes: [], stopTasks: ['hb/t/0'] });
    // A lost node may be taken over by another agent.
    await eventually(async () => (await c.nodes(['a1'])).items[0].state === 'lost', 10_000, 'a1 lost again');
    expect(await c.register('agent-b', [{ id: 'a1', cpu: 2000 }])).toEqual({ ok: true, registered: 1 });
    await expect(c.heartbeat('agent-a', [{ id: 'a1', tasks: [] }])).rejects.toMatchObject({ code: 'forbidden' });
  });
});
