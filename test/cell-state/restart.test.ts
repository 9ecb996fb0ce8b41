/**
 * Durability (DESIGN §5.4, §6): kill -9 the cell-state after acknowledged commits, start it again
 * on the same NATS: it replays the commit log and every acknowledged allocation is there, with the
 * same node and partition versions, the same job table and the same idempotency answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import type { WireTxnResult } from '@tessera/protocol';
import { CellClient, claim, eventually, startCellState, txn } from './helpers.ts';

describe('cell-state restart', () => {
  let ns: NatsServerHandle;
  let cs: ServiceProcess | undefined;
  let c: CellClient;
  beforeAll(async () => {
    ns = await startNatsServer();
    cs = await startCellState(ns);
    c = new CellClient(await connect({ servers: ns.url }));
  });
  afterAll(async () => {
    await c?.nc.close();
    await cs?.kill('SIGKILL');
    await ns?.stop();
  });

  it('rebuilds the same state from the log after kill -9', async () => {
    const nodes = Array.from({ length: 20 }, (_, i) => ({ id: `r-${i}`, cpu: 4000, mem: 4096, labels: { rack: `k${i % 3}` } }));
    await c.register('agent-r', nodes.slice(0, 10));
    await c.register('agent-s', nodes.slice(10));
    await c.submitJob({ id: 'big', tasks: [{ name: 'w', count: 100, resources: { cpu_millis: 250, mem_mib: 128 }, duration_s: 5 }] });
    await eventually(async () => (await c.jobs(['big'])).total === 1, 10_000, 'job big');
    const versions = new Map((await c.nodes()).items.map((n) => [n.id, n.version]));

    // 100 tasks in 25 txns of 4 claims, some over-asking so there are rejections too.
    const acked: WireTxnResult[] = [];
    for (let t = 0; t < 25; t++) {
      const claims = Array.from({ length: 4 }, (_, k) => {
        const i = t * 4 + k;
        const node = `r-${i % 20}`;
        return claim(`big/w/${i}`, node, { cpu: i % 17 === 0 ? 5000 : 250, mem: 128 }, versions.get(node));
      });
      const r = await c.commit([txn(claims, 'incremental', `restart-txn-${t}`)]);
      acked.push(r.results[0]);
    }
    // Some tasks run, some end, one node is re-registered with new labels, a scheduler gives up on a job.
    await c.heartbeat('agent-r', [{ id: 'r-0', tasks: ['big/w/0', 'big/w/20'].filter((x) => acked.some((a) => a.committed.includes(x))) }]);
    await c.taskEnded('agent-r', [{ taskId: 'big/w/40', nodeId: 'r-0', outcome: 'succeeded' }, { taskId: 'big/w/41', nodeId: 'r-1', outcome: 'failed' }]);
    await c.register('agent-s', [{ id: 'r-15', cpu: 8000, mem: 4096, labels: { rack: 'new' } }]);
    await c.jobOutcome('big', 'unschedulable', 'test says so');

    const beforeNodes = await c.nodes();
    const beforeParts = await c.partitions();
    const beforeJobs = await eventually(async () => {
      const j = await c.jobs(['big']);
      return j.items[0].tasks.some((t) => t.state === 'running') ? j : undefined;
    }, 5_000, 'running tasks logged');
    const beforeSync = await c.syncAll();

    await cs!.kill('SIGKILL');
    cs = await startCellState(ns);
    const replayed = cs.logs().find((l) => l.msg === 'commit log replayed')!;
    expect(replayed).toMatchObject({ skipped: 0, anomalies: 0, nodes: 20 });

    expect(await c.nodes()).toEqual(beforeNodes);
    expect(await c.partitions()).toEqual(beforeParts);
    expect(await c.jobs(['big'])).toEqual(beforeJobs);
    expect(await c.syncAll()).toEqual(beforeSync);

    // Idempotency survives: every acknowledged txn id gets its first outcome back.
    for (let t = 0; t < 25; t += 6) {
      const again = await c.commit([txn([claim('big/w/99', 'r-0', { cpu: 1 })], 'incremental', `restart-txn-${t}`)]);
      expect(again.results[0]).toMatchObject({ replayed: true, committed: acked[t].committed, seq: acked[t].seq });
    }
    expect(await c.nodes()).toEqual(beforeNodes);
  });

  it('keeps every acknowledged commit when killed in the middle of a commit storm', async () => {
    await c.register('agent-x', Array.from({ length: 10 }, (_, i) => ({ id: `x-${i}`, cpu: 100_000, mem: 100_000 })));
    const acked = new Set<string>();
    let stop = false;
    const workers = Array.from({ length: 8 }, (_, w) => (async () => {
      for (let i = 0; !stop; i++) {
        const task = `storm/w${w}/${i}`;
        try {
          const r = await c.commit([txn([claim(task, `x-${(w + i) % 10}`, { cpu: 1, mem: 1 })])], undefined, 1_000);
          if (r.results[0].committed.includes(task)) acked.add(task);
        } catch {
          // killed mid-flight: unacknowledged, may or may not be in the log
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })());
    await eventually(async () => acked.size >= 300, 20_000, '300 acknowledged commits');
    await cs!.kill('SIGKILL');
    const ackedAtKill = new Set(acked);
    cs = await startCellState(ns);
    stop = true;
    await Promise.all(workers);
    const listed = await c.nodes(Array.from({ length: 10 }, (_, i) => `x-${i}`));
    const allocated = listed.items.reduce((s, n) => s + n.allocated.cpu_millis, 0);
    // Every acknowledged claim is allocated (some unacknowledged ones may be too).
    expect(allocated).toBeGreaterThanOrEqual(ackedAtKill.size);
    for (const task of ackedAtKill) {
      const r = await c.commit([txn([claim(task, 'x-0', { cpu: 1, mem: 1 })])]);
      expect(r.results[0].rejected[0]?.reason).toBe('duplicate_task');
    }
  });
});

describe('cell-state when nats-server crashes', () => {
  it('keeps acknowledged commits across a kill -9 of nats-server and serves again once it is back', async () => {
    const ns = await startNatsServer();
    let cs = await startCellState(ns);
    const c = new CellClient(await connect({ servers: ns.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 }));
    try {
      await c.register('agent-n', [{ id: 'nn1', cpu: 1000 }]);
      const v = await c.nodeVersion('nn1');
      const acked = await c.commit([txn([claim('nn/t/0', 'nn1', { cpu: 300 }, v)])]);
      expect(acked.results[0].committed).toEqual(['nn/t/0']);

      await ns.kill('SIGKILL');
      await ns.restart();
      // The cell-state reconnects and serves; the acknowledged allocation is there.
      const after = await eventually(async () => (await c.nodes(['nn1'])).items[0], 20_000, 'cell-state serving again');
      expect(after.allocated.cpu_millis).toBe(300);
      const more = await eventually(async () => {
        const r = await c.commit([txn([claim('nn/t/1', 'nn1', { cpu: 300 }, after.version)], 'incremental', 'after-nats-restart')], undefined, 2_000);
        return r.results[0];
      }, 20_000, 'a commit after the nats-server restart');
      expect(more.committed).toEqual(['nn/t/1']);
      // The jobs stream is still read.
      await c.submitJob({ id: 'after-restart', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1 } }] });
      await eventually(async () => (await c.jobs(['after-restart'])).total === 1, 20_000, 'job read after the nats-server restart');

      // And both survive a cell-state crash on top.
      await cs.kill('SIGKILL');
      cs = await startCellState(ns);
      expect((await c.nodes(['nn1'])).items[0].allocated.cpu_millis).toBe(600);
    } finally {
      await c.nc.close();
      await cs.kill('SIGKILL');
      await ns.stop();
    }
  });
});
