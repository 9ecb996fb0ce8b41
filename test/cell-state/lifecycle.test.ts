/**
 * The path of a task through the cell-state, against a real nats-server and the service as a
 * child process: register → sync (snapshot, then deltas) → job read from the stream → commit →
 * assignment to the owning agent → running → task ended → resources released, job finished.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, eventually, metricsText, metricValue, startEnv, stopEnv, txn, type Env } from './helpers.ts';

describe('cell-state: the path of a task', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv();
  });
  afterAll(async () => {
    await stopEnv(env);
  });

  it('registers, syncs, commits, assigns, runs, ends and releases', async () => {
    const c = env.client;
    const reg = await c.register('agent-a', [
      { id: 'node-1', cpu: 4000, mem: 8192, labels: { zone: 'a' } },
      { id: 'node-2', cpu: 4000, mem: 8192, labels: { zone: 'b' } },
    ]);
    expect(reg).toEqual({ ok: true, registered: 2 });

    // Snapshot of every partition: both nodes, nothing allocated; P is learnt from the reply.
    const snap = await c.syncAll();
    expect(snap.partitions).toBe(4);
    expect(snap.syncs.every((s) => s.kind === 'snapshot')).toBe(true);
    const nodes = snap.syncs.flatMap((s) => s.nodes);
    expect(nodes.map((n) => n.id).sort()).toEqual(['node-1', 'node-2']);
    const n1 = nodes.find((n) => n.id === 'node-1')!;
    expect(n1).toMatchObject({ capacity: [4000, 8192, 0], allocated: [0, 0, 0], condition: 'ready', labels: { zone: 'a' } });
    const versions = new Map(snap.syncs.map((s) => [s.partition, s.version]));

    // Up to date: empty deltas.
    const same = await c.sync([...versions].map(([partition, since]) => ({ partition, since })));
    expect(same.syncs.every((s) => s.kind === 'delta' && s.nodes.length === 0)).toBe(true);

    // The job, as `tessera submit` publishes it; cell-state reads it into the job table.
    await c.submitJob({
      id: 'etl-1', tenant: 'team-a',
      tasks: [{ name: 'map', count: 2, resources: { cpu_millis: 1000, mem_mib: 1024 }, duration_s: 30, command: ['sleep', '30'] }],
    });
    await eventually(async () => (await c.jobs(['etl-1'])).items[0]?.state === 'pending', 10_000, 'job etl-1 pending');

    const watch = c.watchAssignments('agent-a');
    const res = await c.commit([txn([
      claim('etl-1/map/0', 'node-1', { cpu: 1000, mem: 1024 }, n1.version),
      claim('etl-1/map/1', 'node-1', { cpu: 1000, mem: 1024 }, n1.version),
    ])]);
    expect(res.results).toHaveLength(1);
    const r = res.results[0];
    expect(r.committed).toEqual(['etl-1/map/0', 'etl-1/map/1']);
    expect(r.rejected).toEqual([]);
    expect(r.nodes).toHaveLength(1);
    expect(r.nodes[0]).toMatchObject({ id: 'node-1', allocated: [2000, 2048, 0] });
    expect(r.nodes[0].version).toBeGreaterThan(n1.version);

    // Delta since the versions we held: only node-1 changed.
    const delta = await c.sync([...versions].map(([partition, since]) => ({ partition, since })));
    const changed = delta.syncs.flatMap((s) => s.nodes);
    expect(delta.syncs.every((s) => s.kind === 'delta')).toBe(true);
    expect(changed.map((n) => n.id)).toEqual(['node-1']);
    expect(changed[0].allocated).toEqual([2000, 2048, 0]);

    // Assignments go to the owning agent, with duration and command from the job spec.
    const got = await watch.waitFor(2);
    expect(got.map((a) => a.taskId).sort()).toEqual(['etl-1/map/0', 'etl-1/map/1']);
    expect(got[0]).toMatchObject({ jobId: 'etl-1', nodeId: 'node-1', resources: { cpu_millis: 1000, mem_mib: 1024 }, durationS: 30, command: ['sleep', '30'] });
    watch.stop();

    let job = (await c.jobs(['etl-1'])).items[0];
    expect(job.state).toBe('placed');
    expect(job.placedAt).toBeGreaterThanOrEqual(job.submittedAt!);
    expect(job.tasks.map((t) => [t.id, t.state, t.node])).toEqual([
      ['etl-1/map/0', 'placed', 'node-1'], ['etl-1/map/1', 'placed', 'node-1'],
    ]);

    // The agent reports them running.
    const hb = await c.heartbeat('agent-a', [{ id: 'node-1', tasks: ['etl-1/map/0', 'etl-1/map/1'] }, { id: 'node-2', tasks: [] }]);
    expect(hb).toEqual({ ok: true, unknownNodes: [], stopTasks: [], missing: [] });
    job = await eventually(async () => {
      const j = (await c.jobs(['etl-1'])).items[0];
      return j.state === 'running' ? j : undefined;
    }, 5_000, 'job running');
    expect(job.tasks.every((t) => t.state === 'running')).toBe(true);

    // One ends: released; the job keeps running.
    expect(await c.taskEnded('agent-a', [{ taskId: 'etl-1/map/0', nodeId: 'node-1', outcome: 'succeeded' }])).toEqual({ ok: true, released: 1 });
    let listed = (await c.nodes(['node-1'])).items[0];
    expect(listed.allocated).toEqual({ cpu_millis: 1000, mem_mib: 1024, gpu: 0 });
    // A second report of the same end releases nothing.
    expect(await c.taskEnded('agent-a', [{ taskId: 'etl-1/map/0', nodeId: 'node-1', outcome: 'succeeded' }])).toEqual({ ok: true, released: 0 });

    // A finished task is never placed again (a redelivered job must not run it twice).
    const again = await c.commit([txn([claim('etl-1/map/0', 'node-2', { cpu: 1000, mem: 1024 }, 0)])]);
    expect(again.results[0].committed).toEqual([]);
    expect(again.results[0].rejected).toEqual([{ taskId: 'etl-1/map/0', nodeId: 'node-2', reason: 'duplicate_task' }]);

    expect(await c.taskEnded('agent-a', [{ taskId: 'etl-1/map/1', nodeId: 'node-1', outcome: 'succeeded' }])).toEqual({ ok: true, released: 1 });
    listed = (await c.nodes(['node-1'])).items[0];
    expect(listed.allocated).toEqual({ cpu_millis: 0, mem_mib: 0, gpu: 0 });
    job = (await c.jobs(['etl-1'])).items[0];
    expect(job.state).toBe('finished');
    expect(job.tasks.map((t) => t.state)).toEqual(['finished', 'finished']);

    const m = await metricsText(env.cs);
    expect(metricValue(m, 'tessera_commit_transactions_total', { outcome: 'committed' })).toBe(1);
    expect(metricValue(m, 'tessera_commit_transactions_total', { outcome: 'rejected' })).toBe(1);
    expect(metricValue(m, 'tessera_commit_claims_total', { outcome: 'committed' })).toBe(2);
    expect(metricValue(m, 'tessera_commit_conflicts_total', { reason: 'duplicate_task' })).toBe(1);
    expect(metricValue(m, 'tessera_cell_nodes', { state: 'ready' })).toBe(2);
    expect(metricValue(m, 'tessera_cell_allocated_ratio', { resource: 'cpu_millis' })).toBe(0);
    expect(m).toContain('tessera_commit_batch_seconds_bucket');
    expect(m).toMatch(/# HELP tessera_commit_conflicts_total \S+/);
    const health = await (await fetch(`${env.cs.httpUrl}/healthz`)).json() as { ok: boolean; nodes: number };
    expect(health).toMatchObject({ ok: true, nodes: 2 });
  });

  it('records a failed task, a failed job, an invalid job and a scheduler outcome', async () => {
    const c = env.client;
    await c.register('agent-a', [{ id: 'node-3', cpu: 1000 }]);
    await c.submitJob({ id: 'fails', restart: { attempts: 0 }, tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] });
    await c.submitJob({ id: 'bad-spec', tasks: [{ name: 't', count: 1, resources: { bogons: 1 } }] });
    await c.submitJob({ id: 'hopeless', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1e9 } }] });
    await eventually(async () => (await c.jobs(['fails', 'bad-spec', 'hopeless'])).total === 3, 10_000, 'three jobs');

    const bad = (await c.jobs(['bad-spec'])).items[0];
    expect(bad.state).toBe('failed');
    expect(bad.reason).toMatch(/tasks\[0\]\.resources\.bogons/);

    const v = await c.nodeVersion('node-3');
    expect((await c.commit([txn([claim('fails/t/0', 'node-3', { cpu: 100 }, v)])])).results[0].committed).toEqual(['fails/t/0']);
    expect(await c.taskEnded('agent-a', [{ taskId: 'fails/t/0', nodeId: 'node-3', outcome: 'failed', reason: 'exit 3' }])).toEqual({ ok: true, released: 1 });
    const failed = (await c.jobs(['fails'])).items[0];
    expect(failed).toMatchObject({ state: 'failed', reason: 'task fails/t/0 failed: exit 3' });

    // With a restart left, a failed task is pending again, listed with its restart and failure (DESIGN §11).
    await c.submitJob({ id: 'restarts', restart: { attempts: 1, backoff_s: 0 }, tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] });
    await eventually(async () => (await c.jobs(['restarts'])).total === 1, 10_000, 'the job');
    for (const [round, want] of [[1, { state: 'pending', tasks: [{ state: 'pending', restarts: 1, lastFailure: 'exit 1' }] }], [2, { state: 'failed', reason: 'task restarts/t/0 failed: exit 2' }]] as const) {
      const at = await c.nodeVersion('node-3');
      expect((await c.commit([txn([claim('restarts/t/0', 'node-3', { cpu: 100 }, at)], 'incremental', `restarts-${round}`)])).results[0].committed).toEqual(['restarts/t/0']);
      await c.taskEnded('agent-a', [{ taskId: 'restarts/t/0', nodeId: 'node-3', outcome: 'failed', reason: `exit ${round}` }]);
      expect((await c.jobs(['restarts'])).items[0]).toMatchObject(want);
    }

    expect(await c.jobOutcome('hopeless', 'unschedulable', 'larger than any node')).toEqual({ ok: true });
    expect((await c.jobs(['hopeless'])).items[0]).toMatchObject({ state: 'unschedulable', reason: 'larger than any node' });
  });

  it('paginates listings', async () => {
    const c = env.client;
    const all = await c.nodes();
    expect(all.total).toBe(3);
    const page = await c.nodes(undefined, 1, 1);
    expect(page.total).toBe(3);
    expect(page.items).toHaveLength(1);
    expect(page.items[0].id).toBe(all.items[1].id);
    const parts = await c.partitions();
    expect(parts.total).toBe(4);
    expect(parts.items.reduce((n, p) => n + p.nodes, 0)).toBe(3);
    expect(Object.keys(parts.items[0].allocated_ratio)).toEqual(['cpu_millis', 'mem_mib', 'gpu']);
    expect((await c.partitions(['2'])).items.map((p) => p.id)).toEqual([2]);
  });
});
