/**
 * Snapshots (DESIGN §6): the leader writes the whole model to the object store; a restart loads
 * the latest snapshot and replays only the log tail after it, and the state it then serves is the
 * state before the crash and the state a full replay builds (nodes, versions, allocations, jobs,
 * idempotent answers). A corrupt snapshot is logged and ignored (full replay), never a crash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Objm } from '@nats-io/obj';
import { connect } from '@nats-io/transport-node';
import type { WireTxnResult } from '@tessera/protocol';
import { startNatsServer, type LogLine, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { CellClient, claim, eventually, startCellState, txn } from './helpers.ts';

// The leader (alone) writes after 1.5 × 15 entries: once before the tail below, not after it.
const SNAP = ['--snapshot-every-entries', '15', '--snapshot-interval-ms', '0'];

describe('cell-state snapshots', () => {
  let ns: NatsServerHandle;
  let cs: ServiceProcess | undefined;
  let c: CellClient;
  const acked: WireTxnResult[] = [];
  beforeAll(async () => {
    ns = await startNatsServer();
    cs = await startCellState(ns, SNAP);
    c = new CellClient(await connect({ servers: ns.url }));
  });
  afterAll(async () => {
    await c?.nc.close();
    await cs?.kill('SIGKILL');
    await ns?.stop();
  });

  /** Everything a client can observe. */
  async function observed() {
    return { nodes: await c.nodes(), partitions: await c.partitions(), jobs: await c.jobs(), sync: await c.syncAll() };
  }
  async function idempotentAnswers() {
    for (const a of acked.filter((_, i) => i % 5 === 0)) {
      const again = await c.commit([txn([claim('snap/w/999', 'r-0', { cpu: 1 })], 'incremental', a.txnId)]);
      expect(again.results[0]).toMatchObject({ replayed: true, committed: a.committed, rejected: a.rejected, seq: a.seq });
    }
  }
  const replayedLine = (p: ServiceProcess) => p.logs().find((l) => l.msg === 'commit log replayed')!;

  it('restarts from the snapshot + log tail into the state before the crash, the same as a full replay', async () => {
    const nodes = Array.from({ length: 12 }, (_, i) => ({ id: `r-${i}`, cpu: 4000, mem: 4096, labels: { rack: `k${i % 3}` } }));
    await c.register('agent-r', nodes.slice(0, 6));
    await c.register('agent-s', nodes.slice(6));
    await c.submitJob({ id: 'snap', tasks: [{ name: 'w', count: 60, resources: { cpu_millis: 250, mem_mib: 128 }, duration_s: 5 }] });
    await eventually(async () => (await c.jobs(['snap'])).total === 1, 10_000, 'job snap');
    const versions = new Map((await c.nodes()).items.map((n) => [n.id, n.version]));
    const commitSome = async (from: number, to: number) => {
      for (let t = from; t < to; t++) {
        const claims = Array.from({ length: 2 }, (_, k) => {
          const i = t * 2 + k;
          const node = `r-${i % 12}`;
          return claim(`snap/w/${i}`, node, { cpu: i % 13 === 0 ? 5000 : 250, mem: 128 }, versions.get(node));
        });
        acked.push((await c.commit([txn(claims, 'incremental', `snap-txn-${t}`)])).results[0]);
      }
    };
    await commitSome(0, 20);
    await c.heartbeat('agent-r', [{ id: 'r-0', tasks: acked.flatMap((a) => a.committed).filter((x) => x === 'snap/w/12' || x === 'snap/w/24') }]);
    await c.taskEnded('agent-s', [{ taskId: 'snap/w/6', nodeId: 'r-6', outcome: 'succeeded' }, { taskId: 'snap/w/7', nodeId: 'r-7', outcome: 'failed', reason: 'oom' }]);
    // A snapshot was written on the way (every 15 entries)...
    const written = await cs!.waitForLog((l) => l.msg === 'snapshot written', 20_000);
    expect(written).toMatchObject({ reason: 'entries' });
    // ...and there is a tail after it.
    await commitSome(20, 24);
    await c.register('agent-s', [{ id: 'r-7', cpu: 8000, mem: 4096, labels: { rack: 'new' } }]);
    await c.jobOutcome('snap', 'unschedulable', 'test says so');
    const before = await observed();

    await cs!.kill('SIGKILL');
    const snapSeq = Math.max(...cs!.logs().filter((l) => l.msg === 'snapshot written').map((l) => l.seq as number));
    cs = await startCellState(ns, SNAP);
    const fromSnapshot = replayedLine(cs);
    expect(fromSnapshot).toMatchObject({ snapshotSeq: snapSeq, skipped: 0, anomalies: 0, nodes: 12 });
    expect(fromSnapshot.entries as number).toBeGreaterThan(0);
    expect(fromSnapshot.entries as number).toBe((fromSnapshot.lastSeq as number) - snapSeq);
    expect(await observed()).toEqual(before);
    await idempotentAnswers();

    // The same log replayed in full (snapshot not loaded) serves the same state.
    await cs.kill('SIGKILL');
    cs = await startCellState(ns, [...SNAP, '--snapshot-restore', 'false']);
    expect(replayedLine(cs).snapshotSeq).toBeUndefined();
    expect(await observed()).toEqual(before);
    await idempotentAnswers();
  });

  it('writes a snapshot on graceful shutdown: the next start replays nothing', async () => {
    await commitTail(c, 'grace', 3);
    const before = { nodes: await c.nodes(), jobs: await c.jobs() };
    const exit = await cs!.stop();
    expect(exit.code).toBe(143);
    const last = cs!.logs().filter((l) => l.msg === 'snapshot written').at(-1) as LogLine;
    expect(last).toMatchObject({ reason: 'shutdown' });
    cs = await startCellState(ns, SNAP);
    expect(replayedLine(cs)).toMatchObject({ snapshotSeq: last.seq, entries: 0 });
    expect({ nodes: await c.nodes(), jobs: await c.jobs() }).toEqual(before);
  });

  it.each([
    ['garbage', (good: Uint8Array) => new TextEncoder().encode(`not a snapshot ${good.length}`)],
    ['a truncated snapshot', (good: Uint8Array) => good.slice(0, Math.floor(good.length / 2))],
  ])('ignores %s (logged) and replays the whole log', async (_name, damage) => {
    await commitTail(c, `bad${_name.length}`, 2);
    const before = { nodes: await c.nodes(), jobs: await c.jobs(), parts: await c.partitions() };
    await cs!.kill('SIGKILL');
    const os = await new Objm(c.nc).open(c.s.snapshotBucket);
    const good = await os.getBlob('cell-state');
    expect(good).not.toBeNull();
    await os.putBlob({ name: 'cell-state' }, damage(good!));
    cs = await startCellState(ns, SNAP);
    await cs.waitForLog((l) => l.msg === 'snapshot ignored; replaying the whole commit log', 5_000);
    expect(replayedLine(cs).snapshotSeq).toBeUndefined();
    expect({ nodes: await c.nodes(), jobs: await c.jobs(), parts: await c.partitions() }).toEqual(before);
  });
});

/** A few more acknowledged commits (a log tail). */
async function commitTail(c: CellClient, tag: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const v = await c.nodeVersion('r-1');
    const r = await c.commit([txn([claim(`${tag}/t/${i}`, 'r-1', { cpu: 1, mem: 1 }, v)])]);
    expect(r.results[0].committed).toEqual([`${tag}/t/${i}`]);
  }
}
