import { describe, expect, it } from 'vitest';
import {
  ConflictReason,
  GRANULARITIES,
  isWellFormedClaim,
  validateTxn,
  type CellState,
  type Claim,
  type Granularity,
  type TxnKind,
} from '../src/index.ts';
import { claimOn, makeCell, space, txnOf, type ClaimDef } from './builders.ts';

/**
 * n1: 1000 cpu / 1000 mem / 1 gpu in zone a; n2 likewise in zone b, with one task already on it
 * (so its version is 2); n3 draining; n4 lost.
 */
function cell(): CellState {
  const c = makeCell([
    { id: 'n1', cap: [1000, 1000, 1], labels: { zone: 'a' } },
    { id: 'n2', cap: [1000, 1000, 1], labels: { zone: 'b' } },
    { id: 'n3', cap: [1000, 1000, 1] },
    { id: 'n4', cap: [1000, 1000, 1] },
  ]);
  c.applyClaims([claimOn(c, { task: 'old', node: 'n2', demand: [500, 0, 0] })], 1);
  c.setCondition('n3', 'draining');
  c.setCondition('n4', 'lost');
  return c;
}

type Row = [name: string, claims: ClaimDef[], granularity: Granularity | 'both', expected: (ConflictReason | 'ok')[]];

describe('validateTxn, one rule at a time (incremental)', () => {
  const rows: Row[] = [
    ['fits', [{ task: 't1', node: 'n1', demand: [500, 500, 1] }], 'both', ['ok']],
    ['fits exactly', [{ task: 't1', node: 'n2', demand: [500, 1000, 1] }], 'both', ['ok']],
    ['unknown node', [{ task: 't1', node: 'nope', demand: [1, 0, 0] }], 'both', ['node_gone']],
    ['draining node', [{ task: 't1', node: 'n3', demand: [1, 0, 0] }], 'both', ['node_gone']],
    ['lost node', [{ task: 't1', node: 'n4', demand: [1, 0, 0] }], 'both', ['node_gone']],
    ['stale version, coarse', [{ task: 't1', node: 'n2', demand: [1, 0, 0], seen: 1 }], 'coarse', ['version']],
    ['stale version, fine', [{ task: 't1', node: 'n2', demand: [1, 0, 0], seen: 1 }], 'fine', ['ok']],
    ['future version, coarse', [{ task: 't1', node: 'n2', demand: [1, 0, 0], seen: 99 }], 'coarse', ['version']],
    ['constraint holds', [{ task: 't1', node: 'n1', demand: [1, 0, 0], constraints: [{ label: 'zone', op: 'in', values: ['a'] }] }], 'both', ['ok']],
    ['constraint fails', [{ task: 't1', node: 'n2', demand: [1, 0, 0], constraints: [{ label: 'zone', op: 'in', values: ['a'] }] }], 'both', ['constraint']],
    ['too big for what is left', [{ task: 't1', node: 'n2', demand: [501, 0, 0] }], 'both', ['resources']],
    ['too big on gpu only', [{ task: 't1', node: 'n1', demand: [0, 0, 2] }], 'both', ['resources']],
    ['two claims fit together', [{ task: 't1', node: 'n1', demand: [500, 0, 0] }, { task: 't2', node: 'n1', demand: [500, 0, 0] }], 'both', ['ok', 'ok']],
    [
      'two claims on one node that fit alone but not together',
      [{ task: 't1', node: 'n1', demand: [600, 0, 0] }, { task: 't2', node: 'n1', demand: [600, 0, 0] }],
      'both',
      ['ok', 'resources'],
    ],
    [
      'the booking of a rejected claim does not count',
      [{ task: 't1', node: 'n1', demand: [2000, 0, 0] }, { task: 't2', node: 'n1', demand: [1000, 0, 0] }],
      'both',
      ['resources', 'ok'],
    ],
    [
      'bookings are per node',
      [{ task: 't1', node: 'n1', demand: [1000, 0, 0] }, { task: 't2', node: 'n2', demand: [500, 0, 0] }],
      'both',
      ['ok', 'ok'],
    ],
    ['task already placed', [{ task: 'old', node: 'n1', demand: [1, 0, 0] }], 'both', ['duplicate_task']],
    ['task twice in one txn', [{ task: 't1', node: 'n1', demand: [1, 0, 0] }, { task: 't1', node: 'n2', demand: [1, 0, 0] }], 'both', ['ok', 'duplicate_task']],
    ['task twice, first one rejected', [{ task: 't1', node: 'nope', demand: [1, 0, 0] }, { task: 't1', node: 'n2', demand: [1, 0, 0] }], 'both', ['node_gone', 'duplicate_task']],
    ['negative demand', [{ task: 't1', node: 'n1', demand: [-1, 0, 0] }], 'both', ['invalid']],
    ['NaN demand', [{ task: 't1', node: 'n1', demand: [NaN, 0, 0] }], 'both', ['invalid']],
    ['Infinity demand', [{ task: 't1', node: 'n1', demand: [0, Infinity, 0] }], 'both', ['invalid']],
    ['empty task id', [{ task: '', node: 'n1', demand: [1, 0, 0] }], 'both', ['invalid']],
    ['empty node id', [{ task: 't1', node: '', demand: [1, 0, 0] }], 'both', ['invalid']],
    ['empty job id', [{ task: 't1', node: 'n1', demand: [1, 0, 0], job: '' }], 'both', ['invalid']],
    ['negative seen version', [{ task: 't1', node: 'n1', demand: [1, 0, 0], seen: -1 }], 'both', ['invalid']],
    ['fractional seen version', [{ task: 't1', node: 'n1', demand: [1, 0, 0], seen: 1.5 }], 'both', ['invalid']],
    [
      'one bad claim does not spoil the others',
      [{ task: 't1', node: 'n1', demand: [1, 0, 0] }, { task: 't2', node: 'n1', demand: [NaN, 0, 0] }, { task: 't3', node: 'n2', demand: [1, 0, 0] }],
      'both',
      ['ok', 'invalid', 'ok'],
    ],
  ];

  const expanded = rows.flatMap(([name, claims, g, exp]) =>
    (g === 'both' ? GRANULARITIES : [g]).map((gr) => [`${name} (${gr})`, claims, gr, exp] as const),
  );

  it.each(expanded)('%s', (_, defs, granularity, expected) => {
    const c = cell();
    const claims = defs.map((d) => claimOn(c, d));
    const v = validateTxn(c, txnOf(claims), granularity);
    const got: (ConflictReason | 'ok')[] = claims.map(() => 'ok');
    for (const r of v.rejected) got[r.index] = r.reason;
    expect(got).toEqual(expected);
    expect(v.accepted).toEqual(expected.flatMap((e, i) => (e === 'ok' ? [i] : [])));
    expect([...v.rejected].map((r) => r.index)).toEqual([...v.rejected].map((r) => r.index).sort((a, b) => a - b));
  });

  it('refuses a demand of the wrong dimension', () => {
    const c = cell();
    const bad: Claim = { taskId: 't1', jobId: 'j', nodeId: 'n1', demand: new Float64Array([1, 0]), seenVersion: 1 };
    const notVector = { ...bad, demand: [1, 0, 0] as unknown as Float64Array };
    for (const claim of [bad, notVector]) {
      expect(validateTxn(c, txnOf([claim]), 'fine')).toEqual({ accepted: [], rejected: [{ index: 0, reason: 'invalid' }] });
    }
  });

  it.each<[string, unknown]>([
    ['a numeric task id', { taskId: 5 }],
    ['a numeric node id', { nodeId: 1 }],
    ['an object job id', { jobId: { id: 'j' } }],
    ['a string seen version', { seenVersion: '1' }],
  ])('treats a claim with %s as malformed', (_, patch) => {
    const c = cell();
    const claim = { ...claimOn(c, { task: 't1', node: 'n1', demand: [1, 0, 0] }), ...(patch as object) } as Claim;
    expect(isWellFormedClaim(claim, space.size)).toBe(false);
    expect(validateTxn(c, txnOf([claim]), 'fine').rejected).toEqual([{ index: 0, reason: 'invalid' }]);
  });

  it('an empty transaction accepts and rejects nothing', () => {
    expect(validateTxn(cell(), txnOf([]), 'coarse')).toEqual({ accepted: [], rejected: [] });
  });

  it('never mutates the cell', () => {
    const c = cell();
    const before = JSON.stringify([...c.nodes].map((n) => [n.id, n.version, [...n.allocated], n.allocations.size]));
    validateTxn(c, txnOf([claimOn(c, { task: 't1', node: 'n1', demand: [100, 0, 0] }), claimOn(c, { task: 't2', node: 'n1', demand: [100, 0, 0] })]), 'fine');
    expect(JSON.stringify([...c.nodes].map((n) => [n.id, n.version, [...n.allocated], n.allocations.size]))).toBe(before);
    expect(c.isTaskPlaced('t1')).toBe(false);
  });
});

describe('validateTxn, all-or-nothing', () => {
  function gang(defs: ClaimDef[], granularity: Granularity = 'fine', kind: TxnKind = 'all-or-nothing') {
    const c = cell();
    return validateTxn(c, txnOf(defs.map((d) => claimOn(c, d)), kind), granularity);
  }

  it('accepts every claim when all fit', () => {
    expect(gang([{ task: 't1', node: 'n1', demand: [500, 0, 0] }, { task: 't2', node: 'n2', demand: [500, 0, 0] }])).toEqual({ accepted: [0, 1], rejected: [] });
  });

  it('rejects the rest as gang_aborted when one claim fails, keeping the real reason', () => {
    const v = gang([
      { task: 't1', node: 'n1', demand: [500, 0, 0] },
      { task: 't2', node: 'n4', demand: [1, 0, 0] },
      { task: 't3', node: 'n2', demand: [1, 0, 0] },
    ]);
    expect(v).toEqual({
      accepted: [],
      rejected: [
        { index: 0, reason: ConflictReason.gang_aborted },
        { index: 1, reason: ConflictReason.node_gone },
        { index: 2, reason: ConflictReason.gang_aborted },
      ],
    });
  });

  it('a gang that fits claim by claim but not together is refused whole', () => {
    const v = gang([{ task: 't1', node: 'n1', demand: [600, 0, 0] }, { task: 't2', node: 'n1', demand: [600, 0, 0] }]);
    expect(v.accepted).toEqual([]);
    expect(v.rejected.map((r) => r.reason)).toEqual(['gang_aborted', 'resources']);
  });

  it('a stale claim aborts the gang under coarse but not under fine', () => {
    const defs: ClaimDef[] = [{ task: 't1', node: 'n1', demand: [1, 0, 0] }, { task: 't2', node: 'n2', demand: [1, 0, 0], seen: 1 }];
    expect(gang(defs, 'coarse').rejected.map((r) => r.reason)).toEqual(['gang_aborted', 'version']);
    expect(gang(defs, 'fine').accepted).toEqual([0, 1]);
  });

  it('a gang whose every claim fails has no gang_aborted', () => {
    const v = gang([{ task: 't1', node: 'n3', demand: [1, 0, 0] }, { task: 't2', node: 'n1', demand: [NaN, 0, 0] }]);
    expect(v.rejected.map((r) => r.reason)).toEqual(['node_gone', 'invalid']);
  });
});

describe('validateTxn with fractional amounts', () => {
  it('checks a claim against exactly the sum applyClaims will book (no ulp over-commit)', () => {
    // 34.6 + 47.5 + 95.7 + 98.4 booked one by one is 276.20000000000005 > 276.2, while
    // 34.6 + (47.5 + 95.7) + 98.4 is 276.2: the last claim must be refused.
    const c = makeCell([{ id: 'n', cap: [276.2, 0, 0] }]);
    c.applyClaims([claimOn(c, { task: 'a', node: 'n', demand: [34.6, 0, 0] })], 1);
    const claims = [47.5, 95.7, 98.4].map((d, i) => claimOn(c, { task: `t${i}`, node: 'n', demand: [d, 0, 0] }));
    const v = validateTxn(c, txnOf(claims), 'fine');
    expect(v.accepted).toEqual([0, 1]);
    expect(v.rejected).toEqual([{ index: 2, reason: 'resources' }]);
    c.applyClaims(v.accepted.map((i) => claims[i]), 2);
    expect(c.node('n')!.allocated[0]).toBeLessThanOrEqual(276.2);
  });
});
