/**
 * The committer's guarantees over the wire: one winner for the last slot (fine → `resources`,
 * coarse → `version`), gangs all-or-nothing, idempotent replays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@tessera/testkit';
import type { ServiceProcess } from '@tessera/testkit';
import { CellClient, claim, metricsText, metricValue, startCellState, txn } from './helpers.ts';

describe.each([
  { conflict: 'fine', loserReason: 'resources' },
  { conflict: 'coarse', loserReason: 'version' },
])('cell-state commit (--conflict $conflict)', ({ conflict, loserReason }) => {
  let ns: NatsServerHandle;
  let cs: ServiceProcess;
  let c: CellClient;
  let c2: CellClient;
  beforeAll(async () => {
    ns = await startNatsServer();
    cs = await startCellState(ns, ['--conflict', conflict, '--batch-ms', '5']);
    c = new CellClient(await connect({ servers: ns.url }));
    c2 = new CellClient(await connect({ servers: ns.url }));
  });
  afterAll(async () => {
    await c?.nc.close();
    await c2?.nc.close();
    await cs?.kill('SIGKILL');
    await ns?.stop();
  });

  it('lets exactly one of two racing transactions take the last free slot', async () => {
    await c.register('agent-a', [{ id: 'race', cpu: 1000, mem: 1000 }]);
    const v = await c.nodeVersion('race');
    // First fill most of the node, then two schedulers race (from two connections) for the rest.
    const fill = await c.commit([txn([claim('fill/t/0', 'race', { cpu: 500 }, v)])]);
    expect(fill.results[0].committed).toEqual(['fill/t/0']);
    const seen = fill.results[0].nodes[0].version;
    const [a, b] = await Promise.all([
      c.commit([txn([claim('ja/t/0', 'race', { cpu: 500 }, seen)])]),
      c2.commit([txn([claim('jb/t/0', 'race', { cpu: 500 }, seen)])]),
    ]);
    const results = [a.results[0], b.results[0]];
    const winners = results.filter((r) => r.committed.length === 1);
    const losers = results.filter((r) => r.committed.length === 0);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0].rejected).toHaveLength(1);
    expect(losers[0].rejected[0].reason).toBe(loserReason);
    // The loser gets fresh node state: the node is full, at a newer version than it decided on.
    const fresh = losers[0].nodes.find((n) => n.id === 'race')!;
    expect(fresh.allocated[0]).toBe(1000);
    expect(fresh.version).toBeGreaterThan(seen);
    const listed = (await c.nodes(['race'])).items[0];
    expect(listed.allocated.cpu_millis).toBe(1000);
    expect(listed.version).toBe(fresh.version);
  });

  it('commits a gang whole or not at all', async () => {
    await c.register('agent-a', [{ id: 'g1', cpu: 1000 }, { id: 'g2', cpu: 1000 }]);
    const v1 = await c.nodeVersion('g1');
    const v2 = await c.nodeVersion('g2');
    // Does not fit on g2 (1500 > 1000): nothing is committed, the others are gang_aborted.
    const no = await c.commit([txn([
      claim('gang/w/0', 'g1', { cpu: 600 }, v1),
      claim('gang/w/1', 'g1', { cpu: 400 }, v1),
      claim('gang/w/2', 'g2', { cpu: 1500 }, v2),
    ], 'all-or-nothing')]);
    const r = no.results[0];
    expect(r.committed).toEqual([]);
    expect(r.rejected.map((x) => [x.taskId, x.reason])).toEqual([
      ['gang/w/0', 'gang_aborted'], ['gang/w/1', 'gang_aborted'], ['gang/w/2', 'resources'],
    ]);
    const after = await c.nodes(['g1', 'g2']);
    expect(after.items.map((n) => n.allocated.cpu_millis)).toEqual([0, 0]);
    expect(after.items.map((n) => n.version)).toEqual([v1, v2]);

    const yes = await c.commit([txn([
      claim('gang/w/0', 'g1', { cpu: 600 }, v1),
      claim('gang/w/1', 'g1', { cpu: 400 }, v1),
      claim('gang/w/2', 'g2', { cpu: 1000 }, v2),
    ], 'all-or-nothing')]);
    expect(yes.results[0].committed).toEqual(['gang/w/0', 'gang/w/1', 'gang/w/2']);
    expect((await c.nodes(['g1', 'g2'])).items.map((n) => n.allocated.cpu_millis)).toEqual([1000, 1000]);
  });

  it('answers a replayed transaction id with its first outcome and changes nothing', async () => {
    await c.register('agent-a', [{ id: 'idem', cpu: 1000 }]);
    const v = await c.nodeVersion('idem');
    const t = txn([claim('idem/t/0', 'idem', { cpu: 300 }, v), claim('idem/t/1', 'idem', { cpu: 900 }, v)], 'incremental', `idem-${conflict}`);
    const first = await c.commit([t]);
    expect(first.results[0].committed).toEqual(['idem/t/0']);
    expect(first.results[0].rejected[0]).toMatchObject({ taskId: 'idem/t/1', reason: 'resources' });
    const before = (await c.nodes(['idem'])).items[0];
    const replays = await c.commit([t, t]);
    for (const r of replays.results) {
      expect(r.replayed).toBe(true);
      expect(r.committed).toEqual(first.results[0].committed);
      expect(r.rejected).toEqual(first.results[0].rejected);
      expect(r.seq).toBe(first.results[0].seq);
    }
    // Even a different payload under the same id is answered from the table, not decided.
    const changed = await c.commit([{ ...t, claims: [claim('idem/t/9', 'idem', { cpu: 1 }, v)] }]);
    expect(changed.results[0]).toMatchObject({ replayed: true, committed: ['idem/t/0'] });
    expect((await c.nodes(['idem'])).items[0]).toEqual(before);
    const m = await metricsText(cs);
    expect(metricValue(m, 'tessera_commit_transactions_total', { outcome: 'replayed' })).toBe(3);
    expect(metricValue(m, 'tessera_commit_transactions_total', { outcome: 'partial' })).toBe(1);
  });

  it('decides many concurrent transactions in group-commit batches without over-committing', async () => {
    const nodes = Array.from({ length: 8 }, (_, i) => ({ id: `bulk-${i}`, cpu: 1000 }));
    await c.register('agent-b', nodes);
    const versions = await c.nodes(nodes.map((n) => n.id));
    const vmap = new Map(versions.items.map((n) => [n.id, n.version]));
    // 200 single-claim txns of 100 cpu over 8 nodes of 1000: exactly 80 fit.
    const calls = Array.from({ length: 200 }, (_, i) => {
      const node = `bulk-${i % 8}`;
      return (i % 2 === 0 ? c : c2).commit([txn([claim(`bulk/t/${i}`, node, { cpu: 100 }, vmap.get(node)!)])]);
    });
    const res = (await Promise.all(calls)).map((r) => r.results[0]);
    const committed = res.filter((r) => r.committed.length === 1).length;
    if (conflict === 'fine') expect(committed).toBe(80);
    else expect(committed).toBeGreaterThanOrEqual(8); // coarse: the first per node and version wins
    const listed = await c.nodes(nodes.map((n) => n.id));
    for (const n of listed.items) expect(n.allocated.cpu_millis).toBeLessThanOrEqual(1000);
    expect(listed.items.reduce((s, n) => s + n.allocated.cpu_millis, 0)).toBe(committed * 100);
    // Batches held more than one transaction each.
    const m = await metricsText(cs);
    const batches = metricValue(m, 'tessera_commit_batch_seconds_count')!;
    expect(batches).toBeLessThan(200);
  });

  it('refuses a commit with other resource names (invalid) and an unknown partition in sync', async () => {
    await expect(c.commit([txn([claim('x/t/0', 'race', { cpu: 1 })])], ['cpu_millis', 'mem_mib'])).rejects.toMatchObject({ code: 'invalid', path: 'resources' });
    await expect(c.sync([{ partition: 0, since: -1 }], ['gpu'])).rejects.toMatchObject({ code: 'invalid', path: 'resources' });
    await expect(c.sync([{ partition: 99, since: -1 }])).rejects.toMatchObject({ code: 'invalid', path: 'requests[0].partition' });
  });
});
