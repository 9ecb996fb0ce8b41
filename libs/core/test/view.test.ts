import { describe, expect, it } from 'vitest';
import { Committer, SchedulerView, snapshotOf, type NodeSnapshot, type PartitionSync } from '../src/index.ts';
import { claimOn, makeCell, plainNode, space, txnOf, vec } from './builders.ts';

function snap(id: string, version: number, allocated: number[] = [0, 0, 0], partition = 0): NodeSnapshot {
  return { id, partition, labels: {}, capacity: vec(1000, 1000, 1), allocated: vec(...allocated), condition: 'ready', version };
}

function sync(kind: PartitionSync['kind'], version: number, nodes: NodeSnapshot[], partition = 0): PartitionSync {
  return { partition, version, kind, nodes };
}

describe('SchedulerView.applySync', () => {
  it('starts never synced: version -1, infinitely stale, empty', () => {
    const view = new SchedulerView(space, 3);
    expect(view.partitions.map((p) => p.version)).toEqual([-1, -1, -1]);
    expect(view.staleness(1, 1000)).toBe(Infinity);
    expect(view.nodeCount).toBe(0);
  });

  it('a snapshot replaces the partition: nodes not in it are dropped', () => {
    const view = new SchedulerView(space, 2);
    view.applySync(sync('snapshot', 3, [snap('a', 1), snap('b', 3)]), 100);
    view.applySync(sync('snapshot', 4, [snap('p1', 1, undefined, 1)], 1), 100);
    view.applySync(sync('snapshot', 5, [snap('b', 5, [10, 0, 0]), snap('c', 4)]), 200);
    expect(view.partitions[0].nodes.map((n) => n.id).sort()).toEqual(['b', 'c']);
    expect(view.node('a')).toBeUndefined();
    expect(view.node('p1')).toBeDefined();
    expect([...view.node('b')!.allocated]).toEqual([10, 0, 0]);
    expect(view.partitions[0]).toMatchObject({ version: 5, syncedAt: 200 });
    expect(view.staleness(0, 250)).toBe(50);
    expect(view.nodeCount).toBe(3);
  });

  it('a delta upserts: changed nodes are overwritten, new ones added, others kept', () => {
    const view = new SchedulerView(space, 1);
    view.applySync(sync('snapshot', 2, [snap('a', 1), snap('b', 2)]), 0);
    view.applySync(sync('delta', 4, [snap('b', 4, [5, 5, 0]), snap('c', 3)]), 10);
    expect(view.partitions[0].nodes.map((n) => n.id)).toEqual(['a', 'b', 'c']);
    expect(view.node('b')).toMatchObject({ version: 4 });
    expect([...view.node('b')!.allocated]).toEqual([5, 5, 0]);
    expect(view.partitions[0].version).toBe(4);
    // An empty delta only marks the partition fresh.
    view.applySync(sync('delta', 4, []), 20);
    expect(view.partitions[0]).toMatchObject({ version: 4, syncedAt: 20 });
    expect(view.nodeCount).toBe(3);
  });

  it('ignores node states older than the one it holds', () => {
    const view = new SchedulerView(space, 1);
    view.applySync(sync('snapshot', 2, [snap('a', 2, [1, 0, 0])]), 0);
    view.refreshNodes([snap('a', 6, [6, 0, 0])]);
    view.applySync(sync('delta', 5, [snap('a', 5, [5, 0, 0])]), 10);
    expect(view.node('a')).toMatchObject({ version: 6 });
    view.applySync(sync('snapshot', 5, [snap('a', 5, [5, 0, 0])]), 20);
    expect(view.node('a')).toMatchObject({ version: 6 });
    expect([...view.node('a')!.allocated]).toEqual([6, 0, 0]);
  });

  it('takes a snapshot older than the partition as it is (the cell was rebuilt)', () => {
    const view = new SchedulerView(space, 1);
    view.applySync(sync('snapshot', 9, [snap('a', 9, [9, 0, 0])]), 0);
    view.applySync(sync('snapshot', 3, [snap('a', 2, [2, 0, 0])]), 10);
    expect(view.node('a')).toMatchObject({ version: 2 });
    expect(view.partitions[0].version).toBe(3);
  });

  it('refuses a sync for a partition it does not have', () => {
    expect(() => new SchedulerView(space, 2).applySync(sync('delta', 1, [], 2), 0)).toThrow(RangeError);
  });

  it('bumps generation on every change', () => {
    const view = new SchedulerView(space, 1);
    const g0 = view.generation;
    view.applySync(sync('snapshot', 1, [snap('a', 1)]), 0);
    view.refreshNodes([snap('a', 2)]);
    view.assume('a', vec(1, 0, 0));
    view.forget('a', vec(1, 0, 0));
    expect(view.generation).toBe(g0 + 4);
  });
});

describe('SchedulerView.refreshNodes', () => {
  it('applies newer node states without touching the partition sync time or version', () => {
    const view = new SchedulerView(space, 2);
    view.applySync(sync('snapshot', 1, [snap('a', 1)]), 100);
    view.refreshNodes([snap('a', 3, [7, 0, 0]), snap('z', 2, undefined, 1)]);
    expect(view.node('a')).toMatchObject({ version: 3 });
    expect(view.partitions[0]).toMatchObject({ version: 1, syncedAt: 100 });
    // A node not yet known is added to its own partition.
    expect(view.partitions[1].nodes.map((n) => n.id)).toEqual(['z']);
    expect(view.partitions[1].version).toBe(-1);
    view.refreshNodes([snap('a', 2, [1, 0, 0])]);
    expect([...view.node('a')!.allocated]).toEqual([7, 0, 0]);
  });

  it('takes the nodes of a commit reply, so the view matches the cell on them', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }, { id: 'n2', cap: [1000, 1000, 1] }]);
    const view = new SchedulerView(space, 1);
    view.applySync(cell.sync(0, -1), 0);
    const r = new Committer(cell, { granularity: 'fine' }).commit(txnOf([claimOn(cell, { task: 'a', node: 'n2', demand: [100, 1, 0] })]), 1);
    view.refreshNodes(r.nodes);
    expect(plainNode(view.node('n2')!)).toEqual(plainNode(cell.node('n2')!));
  });
});

describe('SchedulerView.assume / forget', () => {
  it('books in-flight demand and drops it again, clamping at zero', () => {
    const view = new SchedulerView(space, 1);
    view.applySync(sync('snapshot', 1, [snap('a', 1)]), 0);
    expect(view.node('a')!.reserved).toBeUndefined();
    view.assume('a', vec(100, 10, 0));
    view.assume('a', vec(50, 0, 1));
    expect([...view.node('a')!.reserved!]).toEqual([150, 10, 1]);
    view.forget('a', vec(100, 10, 0));
    expect([...view.node('a')!.reserved!]).toEqual([50, 0, 1]);
    view.forget('a', vec(100, 0, 5));
    expect([...view.node('a')!.reserved!]).toEqual([0, 0, 0]);
  });

  it('keeps reservations across syncs of the node, and ignores unknown nodes', () => {
    const view = new SchedulerView(space, 1);
    view.applySync(sync('snapshot', 1, [snap('a', 1)]), 0);
    view.assume('a', vec(100, 0, 0));
    view.applySync(sync('delta', 2, [snap('a', 2, [100, 0, 0])]), 1);
    view.applySync(sync('snapshot', 3, [snap('a', 3, [100, 0, 0])]), 2);
    expect([...view.node('a')!.reserved!]).toEqual([100, 0, 0]);
    const g = view.generation;
    view.assume('ghost', vec(1, 0, 0));
    view.forget('ghost', vec(1, 0, 0));
    expect(view.node('ghost')).toBeUndefined();
    expect(view.generation).toBe(g);
  });

  it('a view synced from the cell holds copies: the cell changing later does not change the view', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }]);
    const view = new SchedulerView(space, 1);
    view.applySync(cell.sync(0, -1), 0);
    cell.applyClaims([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0] })], 1);
    expect([...view.node('n1')!.allocated]).toEqual([0, 0, 0]);
    expect(view.node('n1')!.version).toBe(1);
    expect(plainNode(snapshotOf(cell.node('n1')!))).not.toEqual(plainNode(view.node('n1')!));
  });
});

describe('SchedulerView.dropTasks', () => {
  it('forgets every node\'s task list (unknown, not empty) and keeps the rest of the node', () => {
    const view = new SchedulerView(space, 1);
    const task = { taskId: 'j/t/0', jobId: 'j', demand: vec(10, 0, 0), priority: 1, queue: 'default', preemptible: false, startedAt: 0 };
    view.applySync(sync('snapshot', 2, [{ ...snap('a', 1, [10, 0, 0]), tasks: [task] }, { ...snap('b', 2), tasks: [] }]), 0);
    expect(view.node('a')!.tasks).toHaveLength(1);
    view.dropTasks();
    expect(view.node('a')!.tasks).toBeUndefined();
    expect(view.node('b')!.tasks).toBeUndefined();
    expect([...view.node('a')!.allocated]).toEqual([10, 0, 0]);
    // A later sync with tasks brings them back.
    view.applySync(sync('delta', 3, [{ ...snap('a', 3, [10, 0, 0]), tasks: [task] }]), 10);
    expect(view.node('a')!.tasks).toHaveLength(1);
  });
});
