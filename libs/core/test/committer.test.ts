import { describe, expect, it } from 'vitest';
import { Committer, ConflictReason, type Claim, type Transaction } from '../src/index.ts';
import { claimOn, fingerprint, makeCell, plainNode, txnOf } from './builders.ts';

function setup(dedupLimit?: number) {
  const cell = makeCell([
    { id: 'n1', cap: [1000, 1000, 1] },
    { id: 'n2', cap: [1000, 1000, 1] },
  ]);
  return { cell, committer: new Committer(cell, { granularity: 'coarse', dedupLimit }) };
}

describe('Committer.commit', () => {
  it('commits what fits, rejects the rest with reasons, and returns the fresh state of every touched node', () => {
    const { cell, committer } = setup();
    const txn = txnOf([
      claimOn(cell, { task: 'a', node: 'n1', demand: [600, 0, 0] }),
      claimOn(cell, { task: 'b', node: 'n1', demand: [600, 0, 0] }),
      claimOn(cell, { task: 'c', node: 'ghost', demand: [1, 0, 0] }),
    ]);
    const r = committer.commit(txn, 7);
    expect(r).toMatchObject({ txnId: txn.id, committed: ['a'], seq: 7 });
    expect(r.replayed).toBeUndefined();
    expect(r.rejected).toEqual([
      { taskId: 'b', nodeId: 'n1', reason: ConflictReason.resources },
      { taskId: 'c', nodeId: 'ghost', reason: ConflictReason.node_gone },
    ]);
    expect(r.nodes.map(plainNode)).toEqual([plainNode(cell.node('n1')!)]);
    expect(cell.allocationOf('a')).toMatchObject({ nodeId: 'n1', committedAt: 7 });
    expect(committer.outcomeOf(txn.id)).toEqual(r);
  });

  it('answers a replay with the first outcome, marked replayed, and changes nothing', () => {
    const { cell, committer } = setup();
    const txn = txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0] })]);
    const first = committer.commit(txn, 1);
    const before = fingerprint(cell);
    const again = committer.commit(txn, 2);
    expect(again).toEqual({ ...first, replayed: true });
    expect(fingerprint(cell)).toEqual(before);
  });

  it('a replay with different claims under the same id still returns the first outcome and changes nothing', () => {
    const { cell, committer } = setup();
    const first = committer.commit(txnOf([claimOn(cell, { task: 'a', node: 'ghost', demand: [1, 0, 0] })], 'incremental', 'same'), 1);
    expect(first.committed).toEqual([]);
    const before = fingerprint(cell);
    const again = committer.commit(txnOf([claimOn(cell, { task: 'b', node: 'n1', demand: [1, 0, 0] })], 'incremental', 'same'), 2);
    expect(again).toEqual({ ...first, replayed: true });
    expect(fingerprint(cell)).toEqual(before);
    expect(cell.isTaskPlaced('b')).toBe(false);
  });

  it('forgets the oldest outcome beyond dedupLimit; a forgotten id is decided afresh', () => {
    const { cell, committer } = setup(2);
    const t1 = txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [1, 0, 0] })]);
    committer.commit(t1, 1);
    committer.commit(txnOf([claimOn(cell, { task: 'b', node: 'n1', demand: [1, 0, 0] })]), 2);
    expect(committer.outcomeOf(t1.id)).toBeDefined();
    committer.commit(txnOf([claimOn(cell, { task: 'c', node: 'n1', demand: [1, 0, 0] })]), 3);
    expect(committer.outcomeOf(t1.id)).toBeUndefined();
    // Decided again: task `a` is already placed, so exactly-once still holds.
    const again = committer.commit(t1, 4);
    expect(again.replayed).toBeUndefined();
    expect(again.committed).toEqual([]);
    expect(again.rejected).toEqual([{ taskId: 'a', nodeId: 'n1', reason: ConflictReason.duplicate_task }]);
    expect(cell.allocationOf('a')!.committedAt).toBe(1);
  });

  it('remember() records an outcome once (rebuilding from the log), and a commit of that id replays it', () => {
    const { cell, committer } = setup();
    const logged = { txnId: 'x', committed: ['a'], rejected: [], nodes: [], seq: 3 };
    committer.remember(logged);
    committer.remember({ ...logged, committed: ['zzz'] });
    expect(committer.outcomeOf('x')).toEqual(logged);
    const before = fingerprint(cell);
    expect(committer.commit(txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [1, 0, 0] })], 'incremental', 'x'), 9)).toEqual({ ...logged, replayed: true });
    expect(fingerprint(cell)).toEqual(before);
  });

  it('forget() drops a remembered outcome: the id is then decided afresh (the cell keeps what was applied)', () => {
    const { cell, committer } = setup();
    const t = txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [1, 0, 0] })]);
    committer.commit(t, 1);
    expect(committer.forget(t.id)).toBe(true);
    expect(committer.forget(t.id)).toBe(false);
    expect(committer.outcomeOf(t.id)).toBeUndefined();
    const again = committer.commit(t, 2);
    expect(again.replayed).toBeUndefined();
    expect(again.rejected).toEqual([{ taskId: 'a', nodeId: 'n1', reason: ConflictReason.duplicate_task }]);
  });

  it('all-or-nothing: one failing claim leaves the state untouched', () => {
    const { cell, committer } = setup();
    const before = fingerprint(cell);
    const r = committer.commit(
      txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0] }), claimOn(cell, { task: 'b', node: 'n2', demand: [100, 0, 2] })], 'all-or-nothing'),
      1,
    );
    expect(r.committed).toEqual([]);
    expect(r.rejected.map((x) => x.reason)).toEqual(['gang_aborted', 'resources']);
    expect(r.nodes.map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(fingerprint(cell)).toEqual(before);
  });

  it('coarse granularity: a claim decided on an old version loses to one that changed the node; fine lets it through', () => {
    for (const granularity of ['coarse', 'fine'] as const) {
      const { cell } = setup();
      const committer = new Committer(cell, { granularity });
      const seen = cell.node('n1')!.version;
      committer.commit(txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [100, 0, 0], seen })]), 1);
      const r = committer.commit(txnOf([claimOn(cell, { task: 'b', node: 'n1', demand: [100, 0, 0], seen })]), 2);
      expect(r.committed).toEqual(granularity === 'coarse' ? [] : ['b']);
    }
  });

  it('commitBatch decides in order at one position; a later txn sees the earlier ones', () => {
    const { cell, committer } = setup();
    const t1 = txnOf([claimOn(cell, { task: 'a', node: 'n1', demand: [700, 0, 0] })]);
    const t2 = txnOf([claimOn(cell, { task: 'b', node: 'n1', demand: [700, 0, 0] })]);
    const rs = committer.commitBatch([t1, t2, t1], 5);
    expect(rs.map((r) => r.seq)).toEqual([5, 5, 5]);
    expect(rs[0].committed).toEqual(['a']);
    expect(rs[1].rejected.map((x) => x.reason)).toEqual([committer.granularity === 'coarse' ? 'version' : 'resources']);
    expect(rs[2]).toEqual({ ...rs[0], replayed: true });
  });

  it('malformed claims are rejected as invalid, never thrown, never applied', () => {
    const { cell, committer } = setup();
    const before = fingerprint(cell);
    const bad: Claim[] = [
      claimOn(cell, { task: 'a', node: 'n1', demand: [-1, 0, 0] }),
      claimOn(cell, { task: 'b', node: 'n1', demand: [NaN, 0, 0] }),
      { ...claimOn(cell, { task: 'c', node: 'n1', demand: [1, 0, 0] }), demand: new Float64Array(1) },
      claimOn(cell, { task: '', node: 'n1', demand: [1, 0, 0] }),
      null as unknown as Claim,
    ];
    const txn: Transaction = txnOf(bad);
    const r = committer.commit(txn, 1);
    expect(r.committed).toEqual([]);
    expect(r.rejected.map((x) => x.reason)).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
    expect(fingerprint(cell)).toEqual(before);
  });
});
