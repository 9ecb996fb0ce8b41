/**
 * DESIGN §5.6: any message that fails to decode or validate gets a typed error reply and changes
 * nothing; the service keeps serving. Every subject cell-state listens on gets a malformed, a
 * truncated, a wrong-schema and an oversized message (and a few semantically bad ones).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '@tessera/protocol';
import { claim, metricsText, metricValue, RESOURCES, startEnv, stopEnv, txn, type Env } from './helpers.ts';

const MAX_BYTES = 64 * 1024;

describe('cell-state refuses bad messages', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv(['--max-message-bytes', String(MAX_BYTES)]);
    const c = env.client;
    await c.register('agent-a', [{ id: 'n1', cpu: 1000 }, { id: 'n2', cpu: 1000 }]);
    await c.submitJob({ id: 'j1', tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100 } }] });
    const v = await c.nodeVersion('n1');
    await c.commit([txn([claim('j1/t/0', 'n1', { cpu: 100 }, v)])]);
  });
  afterAll(async () => {
    await stopEnv(env);
  });

  async function everything() {
    const c = env.client;
    return { nodes: await c.nodes(), jobs: await c.jobs(), partitions: await c.partitions(), sync: await c.syncAll() };
  }

  /** A valid request per subject, so truncating it gives a realistic cut-off message. */
  function validFor(subject: string): unknown {
    const s = env.client.s;
    switch (subject) {
      case s.nodeRegister('agent-a'): return { agent: 'agent-a', nodes: [{ id: 'n9', labels: {}, capacity: { cpu_millis: 1000 } }] };
      case s.nodeHeartbeat('agent-a'): return { agent: 'agent-a', nodes: [{ id: 'n1', tasks: ['j1/t/0'] }] };
      case s.taskEnded('agent-a'): return { agent: 'agent-a', tasks: [{ taskId: 'j1/t/0', nodeId: 'n1', outcome: 'succeeded' }] };
      case s.sync: return { resources: RESOURCES, requests: [{ partition: 0, since: -1 }] };
      case s.commit: return { resources: RESOURCES, txns: [txn([claim('j1/t/1', 'n2', { cpu: 100 })])] };
      case s.jobOutcome: return { jobId: 'j1', schedulerId: 's', state: 'failed', reason: 'nope' };
      default: return { offset: 0, limit: 10 };
    }
  }

  it('answers every kind of garbage on every subject with a typed error and changes nothing', async () => {
    const c = env.client;
    const before = await everything();
    const subjects = c.s.cellStateRequestSubjects('agent-a');
    expect(subjects.length).toBe(13);
    for (const subject of subjects) {
      const valid = encode(validFor(subject));
      const cases: [string, Uint8Array, string][] = [
        ['malformed', new Uint8Array([0xc1, 0xff, 0x00, 0x13]), 'decode_failed'],
        ['truncated', valid.subarray(0, Math.max(1, valid.length - 5)), 'decode_failed'],
        ['wrong schema (array)', encode([1, 2, 3]), 'invalid'],
        ['wrong schema (types)', encode({ agent: 7, nodes: 'x', resources: 3, txns: {}, offset: -4, limit: 'all', jobId: [], requests: null }), 'invalid'],
        ['empty', new Uint8Array(0), 'decode_failed'],
        ['oversized', encode({ pad: 'x'.repeat(MAX_BYTES + 10) }), 'too_large'],
      ];
      for (const [what, bytes, code] of cases) {
        const reply = await c.raw(subject, bytes) as { ok: boolean; error?: { code: string; message: string } };
        expect(reply.ok, `${subject} ${what}`).toBe(false);
        expect(reply.error?.code, `${subject} ${what}`).toBe(code);
        expect(typeof reply.error?.message).toBe('string');
      }
      // Fire-and-forget garbage (no reply subject) must not hurt either.
      c.nc.publish(subject, new Uint8Array([0xc1]));
    }
    await c.nc.flush();
    expect(await everything()).toEqual(before);
  });

  it('refuses semantically bad requests with a path, changing nothing', async () => {
    const c = env.client;
    const before = await everything();
    const s = c.s;
    const cases: [string, unknown, string, string | RegExp][] = [
      [s.nodeRegister('agent-a'), { agent: 'agent-a', nodes: [{ id: 'n7', labels: {}, capacity: { cpu_millis: -5 } }] }, 'invalid', 'nodes[0].capacity.cpu_millis'],
      [s.nodeRegister('agent-a'), { agent: 'agent-a', nodes: [{ id: 'n7', labels: {}, capacity: { bogomips: 5 } }] }, 'invalid', 'nodes[0].capacity.bogomips'],
      [s.nodeRegister('agent-a'), { agent: 'no spaces allowed', nodes: [{ id: 'n7', labels: {}, capacity: {} }] }, 'invalid', 'agent'],
      [s.nodeRegister('agent-a'), { agent: 'agent-a', nodes: [{ id: 'n7', labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])), capacity: {} }] }, 'invalid', 'nodes[0].labels'],
      [s.nodeHeartbeat('agent-a'), { agent: 'agent-a', nodes: [] }, 'invalid', 'nodes'],
      [s.taskEnded('agent-a'), { agent: 'agent-a', tasks: [{ taskId: 'j1/t/0', nodeId: 'n1', outcome: 'exploded' }] }, 'invalid', 'tasks[0].outcome'],
      [s.commit, { resources: RESOURCES, txns: [txn([{ ...claim('j1/t/1', 'n2', {}), demand: [Number.NaN, 0, 0] }])] }, 'invalid', 'txns[0].claims[0].demand[0]'],
      [s.commit, { resources: RESOURCES, txns: [] }, 'invalid', 'txns'],
      [s.sync, { resources: RESOURCES, requests: [{ partition: 1.5, since: 0 }] }, 'invalid', 'requests[0].partition'],
      [s.queryNodes, { limit: 0 }, 'invalid', 'limit'],
      [s.jobOutcome, { jobId: 'j1', schedulerId: 's', state: 'finished', reason: 'x' }, 'invalid', 'state'],
    ];
    for (const [subject, payload, code, path] of cases) {
      const reply = await c.raw(subject, encode(payload)) as { ok: boolean; error?: { code: string; path?: string } };
      expect(reply.ok, subject).toBe(false);
      expect(reply.error?.code, subject).toBe(code);
      expect(reply.error?.path, subject).toMatch(path);
    }
    // A claim whose demand has too many dimensions is a rejected claim (`invalid`), not an error.
    const odd = await c.commit([txn([{ ...claim('j1/t/1', 'n2', {}), demand: [1, 1, 1, 1] }])]);
    expect(odd.results[0].rejected[0].reason).toBe('invalid');
    expect(odd.results[0].committed).toEqual([]);
    const after = await everything();
    expect(after.nodes).toEqual(before.nodes);
    expect(after.jobs).toEqual(before.jobs);
  });

  it('keeps serving and counts what it refused', async () => {
    const c = env.client;
    const v = await c.nodeVersion('n2');
    const r = await c.commit([txn([claim('j1/t/1', 'n2', { cpu: 100 }, v)])]);
    expect(r.results[0].committed).toEqual(['j1/t/1']);
    const m = await metricsText(env.cs);
    expect(metricValue(m, 'tessera_messages_refused_total', { subject: c.s.commit, code: 'decode_failed' })).toBeGreaterThanOrEqual(3);
    expect(metricValue(m, 'tessera_messages_refused_total', { subject: c.s.nodeRegisterAll, code: 'too_large' })).toBe(1);
    expect(env.cs.child.exitCode).toBeNull();
  });
});
