import { describe, expect, it } from 'vitest';
import {
  Committer, ConflictReason, DEFAULT_CLAIM_CHECKS, RESOURCES_CHECK, validateTxn, withCheck,
  type ClaimCheck, type Eviction, type Transaction,
} from '../src/index.ts';
import { claimOn, makeCell, txnOf } from './builders.ts';

/** n1: 1000 cpu, holding `old` (600) and `small` (100); n2: 1000 cpu, empty. */
function cell() {
  const c = makeCell([{ id: 'n1', cap: [1000, 1000, 0] }, { id: 'n2', cap: [1000, 1000, 0] }]);
  c.applyClaims([claimOn(c, { task: 'old', node: 'n1', demand: [600, 0, 0] }), claimOn(c, { task: 'small', node: 'n1', demand: [100, 0, 0] })], 1);
  return c;
}

function withEvictions(txn: Transaction, evictions: Eviction[]): Transaction {
  return { ...txn, evictions };
}

describe('validateTxn with evictions: existing − evictions + claims fits (evaluateNodePlan)', () => {
  const rows: [string, Eviction[], number, 'incremental' | 'all-or-nothing', string[], number[], string[]][] = [
    ['no eviction: does not fit', [], 500, 'incremental', ['resources'], [], []],
    ['evicting the victim makes room', [{ taskId: 'old', nodeId: 'n1' }], 500, 'incremental', ['ok'], [0], []],
    ['a victim on another node frees nothing here', [{ taskId: 'old', nodeId: 'n2' }], 500, 'incremental', ['resources'], [], ['victim_gone']],
    ['a victim that is not placed', [{ taskId: 'ghost', nodeId: 'n1' }], 500, 'incremental', ['resources'], [], ['victim_gone']],
    ['too little freed: claim refused, nothing evicted', [{ taskId: 'small', nodeId: 'n1' }], 500, 'incremental', ['resources'], [], []],
    ['gang refused whole evicts nothing', [{ taskId: 'small', nodeId: 'n1' }], 500, 'all-or-nothing', ['resources'], [], []],
  ];
  it.each(rows)('%s', (_name, evictions, cpu, kind, want, applied, refused) => {
    const c = cell();
    const v = validateTxn(c, withEvictions(txnOf([claimOn(c, { task: 't', node: 'n1', demand: [cpu, 0, 0] })], kind), evictions), 'fine');
    const got = [0].map((i) => v.rejected.find((r) => r.index === i)?.reason ?? 'ok');
    expect(got).toEqual(want);
    expect(v.evictions ?? []).toEqual(applied);
    expect((v.refusedEvictions ?? []).map((r) => r.reason)).toEqual(refused);
  });

  it('an evict-only node is evicted; the committer releases victims before booking claims', () => {
    const c = cell();
    const committer = new Committer(c, { granularity: 'fine' });
    const txn = withEvictions(txnOf([claimOn(c, { task: 't', node: 'n1', demand: [800, 0, 0] })]), [{ taskId: 'old', nodeId: 'n1' }, { taskId: 'small', nodeId: 'n1' }]);
    const r = committer.commit(txn, 2);
    expect(r.committed).toEqual(['t']);
    expect(r.evicted).toEqual(['old', 'small']);
    expect([...c.node('n1')!.allocated]).toEqual([800, 0, 0]);
    expect(c.isTaskPlaced('old')).toBe(false);
  });
});

describe('claim checks are a list', () => {
  it('a new hard rule is one check inserted into the list', () => {
    const noOddCpu: ClaimCheck = { name: 'even-cpu', check: (claim) => (claim.demand[0] % 2 === 1 ? ConflictReason.invalid : undefined) };
    const checks = withCheck(DEFAULT_CLAIM_CHECKS, noOddCpu, RESOURCES_CHECK);
    expect(checks.map((k) => k.name)).toEqual(['well-formed', 'duplicate-task', 'node-state', 'version', 'constraints', 'placement-rules', 'resources', 'even-cpu', 'gpu-devices']);
    const c = cell();
    const v = validateTxn(c, txnOf([claimOn(c, { task: 'a', node: 'n2', demand: [3, 0, 0] }), claimOn(c, { task: 'b', node: 'n2', demand: [4, 0, 0] })]), 'fine', { checks });
    expect(v.rejected).toEqual([{ index: 0, reason: 'invalid' }]);
    expect(() => withCheck(checks, noOddCpu)).toThrow(RangeError);
  });

  it('accepted() books per-transaction state so later claims are checked cumulatively', () => {
    let booked = 0;
    const atMostTwo: ClaimCheck = {
      name: 'at-most-two',
      check: (_c, _n, txn) => (txn.stateOf(atMostTwo, () => ({ n: 0 })).n >= 2 ? ConflictReason.resources : undefined),
      accepted: (_c, _n, txn) => void (txn.stateOf(atMostTwo, () => ({ n: 0 })).n++, booked++),
    };
    const c = cell();
    const claims = ['a', 'b', 'c'].map((t) => claimOn(c, { task: t, node: 'n2', demand: [1, 0, 0] }));
    const v = validateTxn(c, txnOf(claims), 'fine', { checks: withCheck(DEFAULT_CLAIM_CHECKS, atMostTwo) });
    expect(v.accepted).toEqual([0, 1]);
    expect(booked).toBe(2);
  });
});
