/**
 * Reconciliation after a takeover (DESIGN §5.2, §6): the new leader knows exactly what the log
 * knows. What agents report running but the log does not know is stopped; what the log expects
 * but no agent runs is handed to the agent after the grace period — once: as soon as the agent
 * reports it running it is no longer missing. A silent node is not marked lost merely because the
 * leader changed: every node gets one heartbeat timeout from the takeover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { CellClient, claim, eventually, startCellState, txn } from './helpers.ts';

const TIMEOUT_MS = 3_000;
const FLAGS = ['--heartbeat-timeout-ms', String(TIMEOUT_MS), '--assign-grace-ms', '500'];

describe('cell-state agents after a takeover', () => {
  let ns: NatsServerHandle;
  const procs: ServiceProcess[] = [];
  let c: CellClient;
  let beat: NodeJS.Timeout | undefined;
  beforeAll(async () => {
    ns = await startNatsServer();
    c = new CellClient(await connect({ servers: ns.url }));
  });
  afterAll(async () => {
    if (beat) clearInterval(beat);
    await c?.nc.close();
    for (const p of procs) await p.kill('SIGKILL');
    await ns?.stop();
  });

  it('stops unknown tasks, hands missing ones back once, and gives silent nodes a full timeout from the takeover', async () => {
    const a = await startCellState(ns, FLAGS);
    procs.push(a);
    expect(a.ready.role).toBe('leader');
    const b = await startCellState(ns, FLAGS);
    procs.push(b);
    expect(b.ready.role).toBe('standby');

    await c.register('agent-x', [{ id: 'x1', cpu: 1000 }]);
    await c.register('agent-y', [{ id: 'y1', cpu: 1000 }]);
    await c.submitJob({ id: 'rj', tasks: [{ name: 't', count: 3, resources: { cpu_millis: 100 }, duration_s: 60, command: ['run'] }] });
    await eventually(async () => (await c.jobs(['rj'])).total === 1, 10_000, 'job rj');
    const r = await c.commit([txn([claim('rj/t/0', 'x1', { cpu: 100 }), claim('rj/t/1', 'x1', { cpu: 100 }), claim('rj/t/2', 'y1', { cpu: 100 })])]);
    expect(r.results[0].committed).toHaveLength(3);

    // agent-x runs rj/t/0 (rj/t/1 never reached it) and keeps beating; agent-y beats once, then falls silent.
    const xRunning = new Set(['rj/t/0']);
    await c.heartbeat('agent-x', [{ id: 'x1', tasks: [...xRunning] }]);
    await c.heartbeat('agent-y', [{ id: 'y1', tasks: ['rj/t/2'] }]);
    beat = setInterval(() => void c.heartbeat('agent-x', [{ id: 'x1', tasks: [...xRunning] }]).catch(() => undefined), 300);

    await a.kill('SIGKILL');
    await b.waitForLog((l) => l.msg === 'leading', 20_000);
    const tookOver = Date.now();

    // What the log does not know is stopped; what it expects is handed over after the grace period.
    const first = await eventually(() => c.heartbeat('agent-x', [{ id: 'x1', tasks: [...xRunning, 'stray/t/0'] }]), 5_000, 'the new leader answers');
    expect(first.stopTasks).toEqual(['stray/t/0']);
    expect(first.unknownNodes).toEqual([]);
    const handed = first.missing.length > 0 ? first : await eventually(async () => {
      const h = await c.heartbeat('agent-x', [{ id: 'x1', tasks: [...xRunning] }]);
      return h.missing.length > 0 ? h : undefined;
    }, 5_000, 'rj/t/1 reported missing');
    expect(handed.missing).toEqual([{ taskId: 'rj/t/1', jobId: 'rj', nodeId: 'x1', resources: { cpu_millis: 100 }, durationS: 60, command: ['run'] }]);
    // The agent starts it; from then on it is running, not missing again.
    xRunning.add('rj/t/1');
    const after = await c.heartbeat('agent-x', [{ id: 'x1', tasks: [...xRunning] }]);
    expect(after).toMatchObject({ stopTasks: [], missing: [], unknownNodes: [] });
    await eventually(async () => (await c.jobs(['rj'])).items[0].tasks.find((t) => t.id === 'rj/t/1')?.state === 'running', 5_000, 'rj/t/1 running');

    // y1 has been silent since before the kill: still ready well into the first timeout after the takeover...
    while (Date.now() - tookOver < TIMEOUT_MS * 0.8) {
      expect((await c.nodes(['y1'])).items[0].state).toBe('ready');
      await new Promise((res) => setTimeout(res, 200));
    }
    // ...then lost, its task handed back; x1, which beats, stays ready.
    await eventually(async () => (await c.nodes(['y1'])).items[0].state === 'lost', TIMEOUT_MS + 5_000, 'y1 lost');
    expect(Date.now() - tookOver).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.8);
    expect((await c.nodes(['x1'])).items[0].state).toBe('ready');
    const tasks = (await c.jobs(['rj'])).items[0].tasks;
    expect(tasks.map((t) => [t.id, t.state, t.node])).toEqual([['rj/t/0', 'running', 'x1'], ['rj/t/1', 'running', 'x1'], ['rj/t/2', 'pending', undefined]]);
  });
});
