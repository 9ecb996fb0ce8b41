import { describe, expect, it } from 'vitest';
import { CellState, partitionOf, snapshotOf, type CellOptions } from '../src/index.ts';
import { claimOn, makeCell, plainNode, space, vec } from './builders.ts';

describe('CellState construction and nodes', () => {
  it.each([0, -1, 1.5, NaN])('refuses %s partitions', (p) => {
    expect(() => new CellState(space, p)).toThrow(RangeError);
  });

  it('registers a node in its stable partition with version 1 of that partition', () => {
    const cell = new CellState(space, 4);
    const n = cell.upsertNode({ id: 'n1', labels: { zone: 'a' }, capacity: vec(1000, 1000, 0) });
    expect(n).toMatchObject({ id: 'n1', partition: partitionOf('n1', 4), condition: 'ready', version: 1 });
    expect([...n.allocated]).toEqual([0, 0, 0]);
    expect(cell.node('n1')).toBe(n);
    expect(cell.nodeCount).toBe(1);
    expect(cell.partitionVersion(n.partition)).toBe(1);
    expect(cell.partitionNodes(n.partition)).toEqual([n]);
  });

  it('re-registering updates labels and capacity, brings the node back to ready, and bumps its version', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 0] }]);
    cell.setCondition('n1', 'lost');
    const n = cell.upsertNode({ id: 'n1', labels: { zone: 'b' }, capacity: vec(2000, 1000, 1) });
    expect(n).toMatchObject({ condition: 'ready', labels: { zone: 'b' }, version: 3 });
    expect([...n.capacity]).toEqual([2000, 1000, 1]);
    expect(cell.nodeCount).toBe(1);
    expect(cell.partitionNodes(0)).toHaveLength(1);
  });

  it('refuses a capacity of the wrong dimension', () => {
    const cell = new CellState(space, 1);
    expect(() => cell.upsertNode({ id: 'n1', labels: {}, capacity: new Float64Array(2) })).toThrow(RangeError);
    expect(cell.nodeCount).toBe(0);
  });

  it('setCondition bumps the version only on a real change and answers false for unknown nodes', () => {
    const cell = makeCell([{ id: 'n1', cap: [1, 1, 1] }]);
    expect(cell.setCondition('n1', 'ready')).toBe(true);
    expect(cell.node('n1')!.version).toBe(1);
    expect(cell.setCondition('n1', 'draining')).toBe(true);
    expect(cell.node('n1')).toMatchObject({ condition: 'draining', version: 2 });
    expect(cell.setCondition('ghost', 'lost')).toBe(false);
    expect(cell.partitionVersion(0)).toBe(2);
  });
});

describe('CellState allocations', () => {
  it('applyClaims books demand, records the allocation, and bumps the version once per claim', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }, { id: 'n2', cap: [1000, 1000, 1] }]);
    cell.applyClaims(
      [
        claimOn(cell, { task: 'a', node: 'n1', demand: [100, 200, 0], job: 'j1' }),
        claimOn(cell, { task: 'b', node: 'n1', demand: [300, 0, 1], job: 'j1' }),
        claimOn(cell, { task: 'c', node: 'n2', demand: [1, 1, 1], job: 'j2' }),
      ],
      42,
    );
    const n1 = cell.node('n1')!;
    expect([...n1.allocated]).toEqual([400, 200, 1]);
    expect(n1.version).toBe(4);
    expect(cell.node('n2')!.version).toBe(5);
    expect(cell.partitionVersion(0)).toBe(5);
    expect(cell.allocationOf('a')).toMatchObject({ taskId: 'a', jobId: 'j1', nodeId: 'n1', committedAt: 42 });
    expect([...n1.allocations.keys()]).toEqual(['a', 'b']);
    expect(cell.placedTaskCount).toBe(3);
    expect(cell.isTaskPlaced('c')).toBe(true);
    expect([...cell.placedTasks()].map((a) => a.taskId).sort()).toEqual(['a', 'b', 'c']);
  });

  it('applyClaims refuses unvalidated claims (unknown node, task already placed) with a RangeError', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }]);
    expect(() => cell.applyClaims([claimOn(cell, { task: 'a', node: 'ghost', demand: [1, 0, 0] })], 1)).toThrow(RangeError);
    cell.applyClaims([claimOn(cell, { task: 'a', node: 'n1', demand: [1, 0, 0] })], 1);
    expect(() => cell.applyClaims([claimOn(cell, { task: 'a', node: 'n1', demand: [1, 0, 0] })], 2)).toThrow(RangeError);
  });

  it('release frees exactly one task, bumps the version, and is a no-op for unknown tasks', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }]);
    cell.applyClaims([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0] }), claimOn(cell, { task: 'b', node: 'n1', demand: [200, 5, 1] })], 1);
    const v = cell.node('n1')!.version;
    expect(cell.release('a')).toMatchObject({ taskId: 'a', nodeId: 'n1' });
    expect([...cell.node('n1')!.allocated]).toEqual([200, 5, 1]);
    expect(cell.node('n1')!.version).toBe(v + 1);
    expect(cell.isTaskPlaced('a')).toBe(false);
    expect(cell.release('a')).toBeUndefined();
    expect(cell.release('never')).toBeUndefined();
    expect(cell.node('n1')!.version).toBe(v + 1);
  });

  it('release keeps allocated equal to the sum of what is left, even for fractional amounts', () => {
    const cell = makeCell([{ id: 'n1', cap: [10, 10, 10] }]);
    const demands = [0.1, 0.2, 0.7, 1.3, 0.3];
    cell.applyClaims(demands.map((d, i) => claimOn(cell, { task: `t${i}`, node: 'n1', demand: [d, d / 3, 0] })), 1);
    cell.release('t1');
    cell.release('t3');
    const sum = space.zero();
    for (const a of cell.node('n1')!.allocations.values()) for (let i = 0; i < sum.length; i++) sum[i] += a.demand[i];
    expect([...cell.node('n1')!.allocated]).toEqual([...sum]);
  });

  it('releaseNode frees every task on a node and returns them', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }, { id: 'n2', cap: [1000, 1000, 1] }]);
    cell.applyClaims(
      [
        claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0] }),
        claimOn(cell, { task: 'b', node: 'n1', demand: [100, 0, 0] }),
        claimOn(cell, { task: 'c', node: 'n2', demand: [100, 0, 0] }),
      ],
      1,
    );
    cell.setCondition('n1', 'lost');
    const freed = cell.releaseNode('n1');
    expect(freed.map((a) => a.taskId).sort()).toEqual(['a', 'b']);
    expect([...cell.node('n1')!.allocated]).toEqual([0, 0, 0]);
    expect(cell.node('n1')!.allocations.size).toBe(0);
    expect(cell.placedTaskCount).toBe(1);
    expect(cell.releaseNode('n1')).toEqual([]);
    expect(cell.releaseNode('ghost')).toEqual([]);
  });

  it('totals count ready nodes only', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 100, 1] }, { id: 'n2', cap: [500, 100, 0] }]);
    cell.applyClaims([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 10, 1] }), claimOn(cell, { task: 'b', node: 'n2', demand: [50, 0, 0] })], 1);
    expect(cell.totals()).toEqual({ capacity: vec(1500, 200, 1), allocated: vec(150, 10, 1) });
    cell.setCondition('n2', 'draining');
    expect(cell.totals()).toEqual({ capacity: vec(1000, 100, 1), allocated: vec(100, 10, 1) });
  });

  it('snapshots copy the allocation (later changes do not leak into them)', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }]);
    const before = snapshotOf(cell.node('n1')!);
    cell.applyClaims([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0] })], 1);
    expect([...before.allocated]).toEqual([0, 0, 0]);
    expect(before.version).toBe(1);
  });
});

describe('CellState.sync', () => {
  /** Six nodes over two partitions; returns the cell and the ids per partition. */
  function twoPartitions(options: CellOptions = {}) {
    const ids = Array.from({ length: 6 }, (_, i) => `node-${i}`);
    const cell = makeCell(ids.map((id) => ({ id, cap: [1000, 1000, 1] })), 2, options);
    const of = (p: number) => ids.filter((id) => cell.node(id)!.partition === p);
    return { cell, ids, of };
  }

  it('a sync from -1 (never synced) is a snapshot of the whole partition', () => {
    const { cell, of } = twoPartitions();
    for (const p of [0, 1]) {
      const s = cell.sync(p, -1);
      expect(s).toMatchObject({ partition: p, kind: 'snapshot', version: cell.partitionVersion(p) });
      expect(s.nodes.map((n) => n.id).sort()).toEqual(of(p).sort());
    }
    expect(cell.snapshotAll().map((s) => s.kind)).toEqual(['snapshot', 'snapshot']);
  });

  it('an up-to-date sync is an empty delta', () => {
    const { cell } = twoPartitions();
    expect(cell.sync(0, cell.partitionVersion(0))).toEqual({ partition: 0, version: cell.partitionVersion(0), kind: 'delta', nodes: [] });
  });

  it('an empty partition syncs to an empty delta at version 0 and to an empty snapshot from -1', () => {
    const cell = new CellState(space, 3);
    expect(cell.sync(2, 0)).toEqual({ partition: 2, version: 0, kind: 'delta', nodes: [] });
    expect(cell.sync(2, -1)).toEqual({ partition: 2, version: 0, kind: 'snapshot', nodes: [] });
  });

  it('a delta carries each changed node once, in its latest state, and nothing else', () => {
    const { cell, of } = twoPartitions();
    const [a, b, c] = of(0);
    const since = cell.partitionVersion(0);
    cell.applyClaims([claimOn(cell, { task: 't1', node: a, demand: [100, 0, 0] })], 1);
    cell.applyClaims([claimOn(cell, { task: 't2', node: a, demand: [200, 0, 0] })], 2);
    cell.setCondition(b, 'draining');
    cell.release('t1');
    cell.applyClaims([claimOn(cell, { task: 't3', node: of(1)[0], demand: [1, 0, 0] })], 3); // other partition
    const s = cell.sync(0, since);
    expect(s.kind).toBe('delta');
    expect(s.version).toBe(cell.partitionVersion(0));
    expect(s.nodes.map((n) => n.id).sort()).toEqual([a, b].sort());
    const byId = new Map(s.nodes.map((n) => [n.id, n]));
    expect(plainNode(byId.get(a)!)).toEqual(plainNode(cell.node(a)!));
    expect([...byId.get(a)!.allocated]).toEqual([200, 0, 0]);
    expect(byId.get(b)!.condition).toBe('draining');
    expect(byId.has(c)).toBe(false);
    // Snapshots in the delta are copies: a later change does not alter them.
    cell.release('t2');
    expect([...byId.get(a)!.allocated]).toEqual([200, 0, 0]);
  });

  it('a delta since a middle version carries only what changed after it', () => {
    const { cell, of } = twoPartitions();
    const [a, b] = of(0);
    cell.setCondition(a, 'draining');
    const mid = cell.partitionVersion(0);
    cell.setCondition(b, 'draining');
    expect(cell.sync(0, mid).nodes.map((n) => n.id)).toEqual([b]);
    expect(cell.sync(0, mid - 1).nodes.map((n) => n.id).sort()).toEqual([a, b].sort());
  });

  it('a sync since a version older than the trimmed change log is a snapshot', () => {
    const { cell, of } = twoPartitions({ changeLogLimit: 2 });
    const [a] = of(0);
    const start = cell.partitionVersion(0);
    for (let i = 0; i < 10; i++) cell.setCondition(a, i % 2 === 0 ? 'draining' : 'ready');
    const v = cell.partitionVersion(0);
    expect(cell.sync(0, start).kind).toBe('snapshot');
    expect(cell.sync(0, start).nodes).toHaveLength(of(0).length);
    // The last `changeLogLimit` changes are always kept.
    expect(cell.sync(0, v - 2)).toMatchObject({ kind: 'delta', version: v });
    expect(cell.sync(0, v - 1).nodes.map((n) => n.id)).toEqual([a]);
  });

  it('a sync from every version in [0, current] is a delta or snapshot that brings the partition up to date', () => {
    const { cell, of } = twoPartitions({ changeLogLimit: 3 });
    const ids = of(0);
    for (let i = 0; i < 25; i++) cell.setCondition(ids[i % ids.length], i % 3 === 0 ? 'draining' : 'ready');
    const now = cell.partitionNodes(0).map(plainNode);
    for (let since = 0; since <= cell.partitionVersion(0); since++) {
      const s = cell.sync(0, since);
      for (const n of s.nodes) expect(n.version).toBeGreaterThan(s.kind === 'delta' ? since : -1);
      for (const n of cell.partitionNodes(0)) {
        if (n.version > since) expect(s.nodes.map((x) => x.id)).toContain(n.id);
      }
      for (const n of s.nodes) expect(now).toContainEqual(plainNode(n));
    }
  });

  it.each([
    ['in the future', (v: number) => v + 5],
    ['negative', () => -7],
    ['NaN', () => NaN],
  ])('a sync since a version %s is a snapshot', (_, since) => {
    const { cell, of } = twoPartitions();
    cell.setCondition(of(0)[0], 'draining');
    const s = cell.sync(0, since(cell.partitionVersion(0)));
    expect(s.kind).toBe('snapshot');
    expect(s.nodes).toHaveLength(of(0).length);
  });

  it.each([-1, 2, 0.5])('refuses partition %s with a RangeError', (p) => {
    const { cell } = twoPartitions();
    expect(() => cell.sync(p, 0)).toThrow(RangeError);
  });
});
