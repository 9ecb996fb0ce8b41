/**
 * Liveness when the cell-state itself stalls: frozen (SIGSTOP) for twice the heartbeat timeout
 * (within its lease, so it stays the leader), it must not mark the agents' nodes lost when it
 * wakes up; it restarts their liveness clocks instead. A really silent node is still lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startEnv, stopEnv, type Env } from './helpers.ts';

describe('cell-state liveness after its own stall', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(['--heartbeat-timeout-ms', '1500', '--lease-ms', '8000', '--lease-renew-ms', '400', '--standby-check-ms', '200']);
  });
  afterAll(async () => {
    await stopEnv(env);
  });

  it('does not mark nodes lost for the time it could not listen', async () => {
    const c = env.client;
    const nodes = [{ id: 's1' }, { id: 's2' }, { id: 's3' }];
    await c.register('agent-s', nodes);
    let beating = true;
    const beat = setInterval(() => {
      if (beating) void c.heartbeat('agent-s', nodes.map((n) => ({ id: n.id, tasks: [] }))).catch(() => undefined);
    }, 200);
    try {
      await eventually(async () => (await c.nodes()).items.every((n) => n.state !== 'lost'), 5_000, 'nodes up');
      // Frozen: heartbeats sent now would only time out (as they do against a stalled event loop).
      beating = false;
      process.kill(env.cs.pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 3_000));
      process.kill(env.cs.pid, 'SIGCONT');
      beating = true;
      // For well over a timeout after the wake-up, no node is lost.
      const until = Date.now() + 3_000;
      while (Date.now() < until) {
        const listed = await c.nodes();
        expect(listed.items.filter((n) => n.state === 'lost').map((n) => n.id)).toEqual([]);
        await new Promise((r) => setTimeout(r, 200));
      }
      // A node that really goes silent is still lost.
      beating = false;
      await eventually(async () => (await c.nodes()).items.every((n) => n.state === 'lost'), 10_000, 'silent nodes lost');
    } finally {
      clearInterval(beat);
      try { process.kill(env.cs.pid, 'SIGCONT'); } catch { /* gone */ }
    }
  });
});
