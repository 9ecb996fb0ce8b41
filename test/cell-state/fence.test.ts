/**
 * Never acknowledge what is not durable: when the commit-log append fails (here: another writer
 * appended behind this one's back, so the expected-last-sequence fence refuses the append), the
 * batch is undone and answered `unavailable`. Another writer means this cell-state may be a
 * deposed leader: it steps down (hands the lease over), and — being the only cell-state here —
 * takes the lead again after catching up with the log, including what the other writer logged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { decodeEntry, sealEntry, type LogEntry } from '@tessera/cell-state';
import { startServiceProcess } from '@tessera/testkit';
import { CELL_STATE, cellStateArgs, claim, eventually, metricsText, metricValue, startEnv, stopEnv, txn, type Env } from './helpers.ts';

/** The last entry of the commit log as stored, and its sequence. */
async function lastEntry(env: Env): Promise<{ seq: number; data: Uint8Array }> {
  const jsm = await jetstreamManager(env.nc);
  const stream = env.client.s.commitLogStream;
  const seq = (await jsm.streams.info(stream)).state.last_seq;
  const m = await jsm.streams.getMessage(stream, { seq });
  return { seq, data: m!.data };
}

/** An entry another writer would append: chained after the log's last entry. */
async function chainedAfterLast(env: Env, entry: Pick<LogEntry, 'at' | 'writer' | 'records'>): Promise<Uint8Array> {
  const d = decodeEntry((await lastEntry(env)).data);
  if (!d.ok) throw new Error('the last entry does not decode');
  return sealEntry(entry, d.hash).bytes;
}

describe('cell-state commit-log fence', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv();
  });
  afterAll(async () => {
    await stopEnv(env);
  });

  it('undoes and refuses a batch whose append fails, then catches up with the log', async () => {
    const c = env.client;
    await c.register('agent-a', [{ id: 'n1', cpu: 1000 }]);
    const before = (await c.nodes(['n1'])).items[0];

    // Another writer appends an entry (registering node f1 for agent-f) directly to the log.
    const foreign = await chainedAfterLast(env, { at: Date.now(), writer: 'intruder', records: [{ t: 'register', agent: 'agent-f', nodes: [{ id: 'f1', labels: {}, capacity: [500, 0, 0] }] }] });
    await jetstream(c.nc).publish(c.s.commitLogSubject, foreign);

    const t = txn([claim('fz/t/0', 'n1', { cpu: 600 }, before.version)], 'incremental', 'fenced-txn');
    await expect(c.commit([t])).rejects.toMatchObject({ code: 'unavailable' });
    await env.cs.waitForLog((l) => l.msg === 'stepping down', 10_000);
    await env.cs.waitForLog((l) => l.msg === 'leading' && (l.term as number) >= 2, 20_000);
    // Undone: nothing allocated (the version may have moved on, the allocation may not).
    const undone = await eventually(async () => (await c.nodes(['n1'])).items[0], 10_000, 'serving again');
    expect(undone.allocated.cpu_millis).toBe(0);

    // The same transaction again: decided afresh (not answered from the idempotency table).
    const retry = await eventually(() => c.commit([t]), 10_000, 'a commit after the step-down');
    expect(retry.results[0].replayed).toBeUndefined();
    expect(retry.results[0].committed).toEqual(['fz/t/0']);
    // And the other writer's registration was caught up.
    const f1 = await eventually(async () => (await c.nodes(['f1'])).items[0], 5_000, 'f1 caught up');
    expect(f1).toMatchObject({ id: 'f1', state: 'ready', capacity: { cpu_millis: 500, mem_mib: 0, gpu: 0 } });
    const m = await metricsText(env.cs);
    expect(metricValue(m, 'tessera_commit_log_append_failures_total')).toBe(1);
    expect(metricValue(m, 'tessera_messages_refused_total', { subject: c.s.commit, code: 'unavailable' })).toBe(1);
  });

  it('stops at an entry with a flipped byte, naming its sequence, instead of applying it; a restart refuses it too', async () => {
    const c = env.client;
    const before = (await c.nodes(['n1'])).items[0];
    // A copy of a real entry (chained after the last one) with one byte flipped, as a bit flip in JetStream's files would.
    const good = await chainedAfterLast(env, { at: Date.now(), writer: 'intruder', records: [{ t: 'register', agent: 'agent-f', nodes: [{ id: 'f2', labels: {}, capacity: [100, 0, 0] }] }] });
    const bad = good.slice();
    bad[bad.length - 40] ^= 0x01;
    const seq = (await lastEntry(env)).seq + 1;
    await jetstream(c.nc).publish(c.s.commitLogSubject, bad);
    // The next append hits the fence; catching up meets the bad entry and stops the process.
    await expect(c.commit([txn([claim('fz/t/1', 'n1', { cpu: 100 }, before.version)])])).rejects.toMatchObject({ code: 'unavailable' });
    const exit = await env.cs.exited;
    expect(exit.code).toBe(3);
    expect(env.cs.stderr()).toContain(`commit-log entry ${seq} fails verification`);
    const again = await startServiceProcess({ entry: CELL_STATE, args: cellStateArgs(env.ns.url) }).then(
      () => { throw new Error('a cell-state started on a corrupted log'); },
      (e: Error) => e,
    );
    expect(again.message).toContain(`commit-log entry ${seq} fails verification`);
  });
});
