/**
 * CellState.exportState / importState (snapshots) and Committer.rememberedOutcomes: a restored
 * cell is indistinguishable from the original — same nodes, versions, change logs (so the same
 * deltas for any `since`), booking order — and keeps behaving the same under further changes.
 * Inconsistent data is refused before anything is changed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CellState, Committer, type CellStateData } from '../src/index.ts';
import { claimOn, fingerprint, makeCell, space, txnOf, vec } from './builders.ts';

type Op =
  | { k: 'register'; node: number; cap: number; zone: string }
  | { k: 'claim'; task: number; node: number; cpu: number }
  | { k: 'release'; task: number }
  | { k: 'lose'; node: number };

const AWKWARD = [0.1, 0.2, 0.3, 0.7, 1.1, 100, 250];
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('register' as const), node: fc.nat(7), cap: fc.constantFrom(1000, 2000.5), zone: fc.constantFrom('a', 'b') }),
  fc.record({ k: fc.constant('claim' as const), task: fc.nat(40), node: fc.nat(7), cpu: fc.constantFrom(...AWKWARD) }),
  fc.record({ k: fc.constant('release' as const), task: fc.nat(40) }),
  fc.record({ k: fc.constant('lose' as const), node: fc.nat(7) }),
);

function run(cell: CellState, ops: readonly Op[]): void {
  for (const o of ops) {
    switch (o.k) {
      case 'register':
        cell.upsertNode({ id: `n${o.node}`, labels: { zone: o.zone }, capacity: vec(o.cap, 4096, 1) });
        break;
      case 'claim':
        if (cell.node(`n${o.node}`) !== undefined && !cell.isTaskPlaced(`t${o.task}`)) {
          cell.applyClaims([claimOn(cell, { task: `t${o.task}`, node: `n${o.node}`, demand: [o.cpu, 1, 0], job: `j${o.task % 3}` })], cell.partitionVersion(0));
        }
        break;
      case 'release':
        cell.release(`t${o.task}`);
        break;
      case 'lose':
        if (cell.node(`n${o.node}`) !== undefined) {
          cell.setCondition(`n${o.node}`, 'lost');
          cell.releaseNode(`n${o.node}`);
        }
        break;
    }
  }
}

/** Everything a reader can observe, including deltas from every possible `since` and the booking order. */
function observable(cell: CellState): unknown {
  const syncs = [];
  for (let p = 0; p < cell.partitionCount; p++) {
    for (let since = -1; since <= cell.partitionVersion(p); since++) syncs.push(cell.sync(p, since));
  }
  return {
    fp: fingerprint(cell),
    order: cell.nodes.map((n) => [n.id, n.index, [...n.allocations.keys()]]),
    placed: [...cell.placedTasks()].map((a) => a.taskId),
    partitionNodes: Array.from({ length: cell.partitionCount }, (_, p) => cell.partitionNodes(p).map((n) => n.id)),
    syncs: JSON.parse(JSON.stringify(syncs, (_k, v) => (v instanceof Float64Array ? [...v] : v))),
  };
}

function restored(cell: CellState, opts = { changeLogLimit: 4 }): CellState {
  const copy = new CellState(space, cell.partitionCount, opts);
  copy.importState(cell.exportState());
  return copy;
}

describe('CellState export/import', () => {
  it('restores a cell that answers and evolves exactly like the original', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(op, { maxLength: 30 }), fc.integer({ min: 1, max: 3 }), (before, after, parts) => {
        const a = new CellState(space, parts, { changeLogLimit: 4 });
        run(a, before);
        const b = restored(a);
        expect(observable(b)).toEqual(observable(a));
        run(a, after);
        run(b, after);
        expect(observable(b)).toEqual(observable(a));
      }),
      { numRuns: 150 },
    );
  });

  it('exports plain data without changing the cell, with vectors copied', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }], 2);
    cell.applyClaims([claimOn(cell, { task: 't', node: 'n1', demand: [0.1, 0.2, 0] })], 3);
    const before = observable(cell);
    const data = cell.exportState();
    (data.nodes[0].allocated as Float64Array)[0] = 999;
    expect(observable(cell)).toEqual(before);
    expect(data).toMatchObject({ partitions: 2, dims: 3, nodes: [{ id: 'n1', version: 2 }], allocations: [{ taskId: 't', nodeId: 'n1', committedAt: 3 }] });
  });

  const base = (): CellStateData => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }, { id: 'n2', cap: [1000, 1000, 1] }], 1);
    cell.applyClaims([claimOn(cell, { task: 't1', node: 'n1', demand: [100, 0, 0] }), claimOn(cell, { task: 't2', node: 'n2', demand: [0.3, 0, 0] })], 1);
    return cell.exportState();
  };
  const cases: [string, (d: CellStateData) => CellStateData][] = [
    ['other partition count', (d) => ({ ...d, partitions: 2 })],
    ['other dimensions', (d) => ({ ...d, dims: 2 })],
    ['repeated node id', (d) => ({ ...d, nodes: [d.nodes[0], d.nodes[0]] })],
    ['node version beyond its partition', (d) => ({ ...d, nodes: [{ ...d.nodes[0], version: 99 }, d.nodes[1]] })],
    ['negative capacity', (d) => ({ ...d, nodes: [{ ...d.nodes[0], capacity: vec(-1, 0, 0) }, d.nodes[1]] })],
    ['allocated not the sum of allocations', (d) => ({ ...d, nodes: [{ ...d.nodes[0], allocated: vec(99, 0, 0) }, d.nodes[1]] })],
    ['allocation on an unknown node', (d) => ({ ...d, allocations: [{ ...d.allocations[0], nodeId: 'ghost' }] })],
    ['repeated task', (d) => ({ ...d, allocations: [d.allocations[0], d.allocations[0]] })],
    ['change log out of order', (d) => ({ ...d, partitionStates: [{ ...d.partitionStates[0], logVersions: [...d.partitionStates[0].logVersions].reverse() }] })],
    ['change log naming a missing node', (d) => ({ ...d, partitionStates: [{ ...d.partitionStates[0], logNodes: d.partitionStates[0].logNodes.map(() => 7) }] })],
  ];
  it.each(cases)('refuses %s and leaves the cell empty', (_name, tamper) => {
    const cell = new CellState(space, 1);
    expect(() => cell.importState(tamper(base()))).toThrow(RangeError);
    expect(cell.nodeCount).toBe(0);
    expect(cell.placedTaskCount).toBe(0);
    expect(cell.partitionVersion(0)).toBe(0);
    cell.importState(base());
    expect(cell.nodeCount).toBe(2);
  });

  it('refuses to import into a cell that is not empty', () => {
    const cell = makeCell([{ id: 'x', cap: [1, 1, 1] }], 1);
    expect(() => cell.importState(base())).toThrow(/not empty/);
  });
});

describe('Committer.rememberedOutcomes', () => {
  it('lists outcomes oldest first, and remembering them in that order restores idempotent answers', () => {
    const cell = makeCell([{ id: 'n1', cap: [1000, 1000, 1] }], 1);
    const c = new Committer(cell, { granularity: 'fine', dedupLimit: 3 });
    for (let i = 0; i < 5; i++) c.commit(txnOf([claimOn(cell, { task: `t${i}`, node: 'n1', demand: [100, 0, 0] })], 'incremental', `x${i}`), i + 1);
    const listed = [...c.rememberedOutcomes()];
    expect(listed.map((r) => r.txnId)).toEqual(['x2', 'x3', 'x4']);
    const copy = restored(cell);
    const c2 = new Committer(copy, { granularity: 'fine', dedupLimit: 3 });
    for (const r of listed) c2.remember(r);
    const again = c2.commit(txnOf([claimOn(copy, { task: 'other', node: 'n1', demand: [1, 0, 0] })], 'incremental', 'x3'), 99);
    expect(again).toEqual({ ...listed[1], replayed: true });
    expect(fingerprint(copy)).toEqual(fingerprint(cell));
  });
});
