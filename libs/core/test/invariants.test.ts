/**
 * Property tests for the invariants of DESIGN §5 that the pure core is responsible for:
 * no over-commit, all-or-nothing, coarse ⊆ fine, idempotent replay, sync convergence, and bad
 * input rejected with a typed reason (never thrown, never applied).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CellState,
  Committer,
  ConflictReason,
  fitsWith,
  GRANULARITIES,
  NODE_CONDITIONS,
  satisfiesAll,
  SchedulerView,
  TXN_KINDS,
  validateJobSpec,
  validateTxn,
  type Claim,
  type NodeCondition,
  type Transaction,
  type TxnKind,
  type TxnResult,
} from '../src/index.ts';
import { fingerprint, plainNode, space } from './builders.ts';

const RUNS = { numRuns: 200 };
const REASONS = new Set<string>(Object.values(ConflictReason));
const TASKS = 12;
const MAX_NODES = 6;

// ---------------------------------------------------------------------------------------------
// Generators

/** Integer units, and decimal ones (where float rounding could let an over-commit through). */
const units = fc.constantFrom('int', 'decimal');
/** Decimals whose binary sums round (0.1 + 0.2 ≠ 0.3), to bring float slips out quickly. */
const AWKWARD = [0.1, 0.2, 0.3, 0.4, 0.7, 1.1, 1.3, 2.2, 3.3];
const amount = (u: string, max: number) =>
  u === 'int'
    ? fc.integer({ min: 0, max })
    : fc.oneof(fc.constantFrom(...AWKWARD.filter((x) => x <= max)), fc.integer({ min: 0, max: max * 10 }).map((x) => x / 10));

/** The third dimension is `gpu`: whole devices (DESIGN §12; shares are `gpu_milli`), so always whole. */
const gpus = (max: number) => fc.integer({ min: 0, max });

interface NodeDef { cap: number[]; zone?: string }
interface ClaimPick { task: number; node: number; demand: number[]; seen: 'current' | 'stale' | 'future'; constrained: boolean }
type Command =
  | { t: 'txn'; kind: TxnKind; claims: ClaimPick[] }
  | { t: 'release'; task: number }
  | { t: 'cond'; node: number; cond: NodeCondition }
  | { t: 'releaseNode'; node: number }
  | { t: 'relabel'; node: number; zone?: string }
  | { t: 'sync'; partition: number }
  | { t: 'refresh' };

const zone = fc.option(fc.constantFrom('a', 'b'), { nil: undefined });

function nodeDefs(u: string) {
  return fc.array(fc.record({ cap: fc.tuple(amount(u, 10), amount(u, 10), gpus(2)), zone }), { minLength: 1, maxLength: MAX_NODES });
}

function claimPick(u: string) {
  return fc.record({
    task: fc.integer({ min: 0, max: TASKS - 1 }),
    node: fc.integer({ min: 0, max: MAX_NODES }), // ≥ node count: an unknown node
    demand: fc.tuple(amount(u, 6), amount(u, 6), gpus(1)),
    seen: fc.constantFrom('current', 'current', 'current', 'stale', 'future'),
    constrained: fc.boolean(),
  });
}

function commands(u: string, withSync = false) {
  const cmd: fc.Arbitrary<Command>[] = [
    fc.record({ t: fc.constant('txn'), kind: fc.constantFrom(...TXN_KINDS), claims: fc.array(claimPick(u), { minLength: 0, maxLength: 5 }) }),
    fc.record({ t: fc.constant('txn'), kind: fc.constantFrom(...TXN_KINDS), claims: fc.array(claimPick(u), { minLength: 1, maxLength: 3 }) }),
    fc.record({ t: fc.constant('release'), task: fc.integer({ min: 0, max: TASKS - 1 }) }),
    fc.record({ t: fc.constant('cond'), node: fc.nat(MAX_NODES), cond: fc.constantFrom(...NODE_CONDITIONS) }),
    fc.record({ t: fc.constant('releaseNode'), node: fc.nat(MAX_NODES) }),
    fc.record({ t: fc.constant('relabel'), node: fc.nat(MAX_NODES), zone }),
  ] as fc.Arbitrary<Command>[];
  const weighted = cmd.map((arbitrary) => ({ arbitrary, weight: 2 }));
  if (withSync) {
    // Rarer than changes, so that change logs get trimmed between two syncs of a partition.
    weighted.push({ arbitrary: fc.record({ t: fc.constant('sync'), partition: fc.nat(7) }) as fc.Arbitrary<Command>, weight: 1 });
    weighted.push({ arbitrary: fc.constant({ t: 'refresh' }) as fc.Arbitrary<Command>, weight: 1 });
  }
  return fc.array(fc.oneof(...weighted), { minLength: 1, maxLength: withSync ? 60 : 40 });
}

// ---------------------------------------------------------------------------------------------
// A small world: a cell, a committer, and the commands applied to it

const nodeId = (i: number) => `node-${i}`;
const taskName = (i: number) => `task-${i}`;

function buildCell(defs: readonly NodeDef[], partitions: number, changeLogLimit?: number): CellState {
  const cell = new CellState(space, partitions, { changeLogLimit });
  defs.forEach((d, i) => cell.upsertNode({ id: nodeId(i), labels: labelsOf(d.zone), capacity: Float64Array.from(d.cap) }));
  return cell;
}

function labelsOf(z: string | undefined): Record<string, string> {
  return z === undefined ? {} : { zone: z };
}

function toClaim(cell: CellState, p: ClaimPick): Claim {
  const id = nodeId(p.node);
  const v = cell.node(id)?.version ?? 0;
  return {
    taskId: taskName(p.task),
    jobId: 'job',
    nodeId: id,
    demand: Float64Array.from(p.demand),
    seenVersion: p.seen === 'current' ? v : p.seen === 'stale' ? Math.max(0, v - 1) : v + 1,
    constraints: p.constrained ? [{ label: 'zone', op: 'in', values: ['a'] }] : undefined,
  };
}

let txnSeq = 0;

/** Applies a non-txn command to the cell (as the cell-state service's other handlers would). */
function applyOther(cell: CellState, c: Command): void {
  switch (c.t) {
    case 'release':
      cell.release(taskName(c.task));
      break;
    case 'cond':
      cell.setCondition(nodeId(c.node), c.cond);
      break;
    case 'releaseNode':
      cell.releaseNode(nodeId(c.node));
      break;
    case 'relabel': {
      const n = cell.node(nodeId(c.node));
      // Same capacity: a shrink below what is allocated is the node's doing, not an over-commit.
      if (n !== undefined) cell.upsertNode({ id: n.id, labels: labelsOf(c.zone), capacity: n.capacity });
      break;
    }
    default:
      break;
  }
}

/** Invariant 1 and the bookkeeping behind it, on every node. */
function expectConsistent(cell: CellState): void {
  let placed = 0;
  for (const n of cell.nodes) {
    const sum = new Float64Array(space.size);
    for (const a of n.allocations.values()) {
      expect(a.nodeId).toBe(n.id);
      expect(cell.allocationOf(a.taskId)).toBe(a);
      for (let i = 0; i < sum.length; i++) sum[i] += a.demand[i];
    }
    placed += n.allocations.size;
    for (let i = 0; i < space.size; i++) {
      expect(n.allocated[i], `${n.id} ${space.names[i]} over capacity`).toBeLessThanOrEqual(n.capacity[i]);
      expect(n.allocated[i], `${n.id} ${space.names[i]} is not the sum of its allocations`).toBe(sum[i]);
    }
    expect(n.version).toBeLessThanOrEqual(cell.partitionVersion(n.partition));
  }
  expect(cell.placedTaskCount).toBe(placed);
}

function placedSet(cell: CellState): Set<string> {
  return new Set([...cell.placedTasks()].map((a) => `${a.taskId}@${a.nodeId}`));
}

/** Commits a transaction and checks (a), (b), (d) and the shape of the answer around it. */
function commitAndCheck(committer: Committer, txn: Transaction): TxnResult {
  const cell = committer.cell;
  const before = fingerprint(cell);
  const placedBefore = placedSet(cell);
  const seq = ++txnSeq;
  const r = committer.commit(txn, seq);

  // Every claim is answered exactly once, with a known reason when refused.
  expect(r.committed.length + r.rejected.length).toBe(txn.claims.length);
  for (const x of r.rejected) expect(REASONS.has(x.reason)).toBe(true);
  // (b) all-or-nothing: all or none.
  if (txn.kind === 'all-or-nothing') expect([0, txn.claims.length]).toContain(r.committed.length);
  // Only the committed claims changed the state, each on the ready node it named.
  const expected = new Set(placedBefore);
  for (const t of r.committed) {
    const c = txn.claims.find((x) => x.taskId === t)!;
    expect(cell.allocationOf(t)?.nodeId).toBe(c.nodeId);
    expect(cell.node(c.nodeId)!.condition).toBe('ready');
    expect(satisfiesAll(cell.node(c.nodeId)!.labels, c.constraints)).toBe(true);
    expected.add(`${t}@${c.nodeId}`);
  }
  expect(placedSet(cell)).toEqual(expected);
  if (r.committed.length === 0) expect(fingerprint(cell)).toEqual(before);
  // (a)
  expectConsistent(cell);

  // (d) replaying the id answers the first outcome and changes nothing.
  const after = fingerprint(cell);
  expect(committer.commit(txn, seq + 1_000_000)).toEqual({ ...r, replayed: true });
  expect(fingerprint(cell)).toEqual(after);
  return r;
}

// ---------------------------------------------------------------------------------------------

describe('invariants of the committer (DESIGN §5)', () => {
  it('(a, b, d) random transactions never over-commit, gangs are all-or-nothing, replays change nothing', () => {
    fc.assert(
      fc.property(
        units.chain((u) => fc.tuple(nodeDefs(u), commands(u))),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(...GRANULARITIES),
        ([defs, cmds], partitions, granularity) => {
          const cell = buildCell(defs, partitions);
          const committer = new Committer(cell, { granularity });
          expectConsistent(cell);
          for (const c of cmds) {
            if (c.t === 'txn') commitAndCheck(committer, { id: `t${++txnSeq}`, schedulerId: 's', kind: c.kind, claims: c.claims.map((p) => toClaim(cell, p)) });
            else {
              applyOther(cell, c);
              expectConsistent(cell);
            }
          }
        },
      ),
      RUNS,
    );
  });

  it('(a) a node is never over-committed even when every claim aims at the same node', () => {
    fc.assert(
      fc.property(
        units.chain((u) => fc.tuple(fc.tuple(amount(u, 10), amount(u, 10), gpus(2)), fc.array(fc.array(fc.tuple(amount(u, 4), amount(u, 4), gpus(1)), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }))),
        fc.constantFrom(...TXN_KINDS),
        ([cap, txns], kind) => {
          const cell = buildCell([{ cap }], 1);
          const committer = new Committer(cell, { granularity: 'fine' });
          let task = 0;
          for (const demands of txns) {
            const claims = demands.map((d) => ({ taskId: `t${task++}`, jobId: 'j', nodeId: nodeId(0), demand: Float64Array.from(d), seenVersion: 0 }));
            commitAndCheck(committer, { id: `t${++txnSeq}`, schedulerId: 's', kind, claims });
          }
        },
      ),
      RUNS,
    );
  });

  it('(a) no float slip over-commits a node sized exactly for its tasks, through commits and releases', () => {
    // The node's capacity is the sum of `sizes` (in that order); transactions claim those sizes
    // in other orders and groupings, and tasks end in between, so every fit check is on the edge.
    const step = fc.oneof(
      fc.record({ t: fc.constant('txn' as const), kind: fc.constantFrom(...TXN_KINDS), picks: fc.array(fc.nat(7), { minLength: 1, maxLength: 4 }) }),
      fc.record({ t: fc.constant('release' as const), pick: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...AWKWARD), { minLength: 2, maxLength: 8 }), fc.array(step, { minLength: 1, maxLength: 30 }), (sizes, steps) => {
        let cap = 0;
        for (const x of sizes) cap += x;
        const cell = buildCell([{ cap: [cap, cap, cap] }], 1);
        const committer = new Committer(cell, { granularity: 'fine' });
        let task = 0;
        for (const s of steps) {
          if (s.t === 'txn') {
            const claims = s.picks.map((k) => {
              const d = sizes[k % sizes.length];
              return { taskId: `t${task++}`, jobId: 'j', nodeId: nodeId(0), demand: Float64Array.of(d, d, d), seenVersion: 0 };
            });
            commitAndCheck(committer, { id: `e${++txnSeq}`, schedulerId: 's', kind: s.kind, claims });
          } else {
            const placed = [...cell.placedTasks()];
            if (placed.length > 0) cell.release(placed[s.pick % placed.length].taskId);
            expectConsistent(cell);
          }
        }
      }),
      RUNS,
    );
  });

  it('(a) claims whose sum is the capacity, summed in another order, never over-commit', () => {
    // The capacity is the sum of `sizes` in a random association, e.g. a + ((b + c) + d); the
    // claims book them as earlier transactions plus one multi-claim transaction. A check that
    // rounds differently from the booking lets the last claim through an ulp over capacity.
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...AWKWARD), { minLength: 3, maxLength: 8 }),
        fc.array(fc.nat(100), { minLength: 7, maxLength: 7 }),
        fc.nat(100),
        fc.constantFrom(...TXN_KINDS),
        (sizes, joins, split, kind) => {
          const parts = [...sizes];
          for (let j = 0; parts.length > 1; j++) {
            const k = joins[j] % (parts.length - 1);
            parts.splice(k, 2, parts[k] + parts[k + 1]);
          }
          const cap = parts[0];
          const cell = buildCell([{ cap: [cap, 0, 0] }], 1);
          const committer = new Committer(cell, { granularity: 'fine' });
          const claim = (i: number): Claim => ({ taskId: `t${i}`, jobId: 'j', nodeId: nodeId(0), demand: Float64Array.of(sizes[i], 0, 0), seenVersion: 0 });
          const cut = split % sizes.length;
          for (let i = 0; i < cut; i++) commitAndCheck(committer, { id: `s${++txnSeq}`, schedulerId: 's', kind: 'incremental', claims: [claim(i)] });
          commitAndCheck(committer, { id: `s${++txnSeq}`, schedulerId: 's', kind, claims: sizes.slice(cut).map((_, i) => claim(cut + i)) });
        },
      ),
      RUNS,
    );
  });

  it('(c) a claim coarse accepts, fine accepts too, when the scheduler decided on a consistent view', () => {
    fc.assert(
      fc.property(
        units.chain((u) => fc.tuple(nodeDefs(u), commands(u), fc.array(claimPick(u), { minLength: 1, maxLength: 6 }), commands(u))),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom(...TXN_KINDS),
        ([defs, history, picks, concurrent], partitions, kind) => {
          const cell = buildCell(defs, partitions);
          const other = new Committer(cell, { granularity: 'fine' });
          const run = (cmds: Command[]) => {
            for (const c of cmds) {
              if (c.t === 'txn') other.commit({ id: `o${++txnSeq}`, schedulerId: 'other', kind: c.kind, claims: c.claims.map((p) => toClaim(cell, p)) }, txnSeq);
              else applyOther(cell, c);
            }
          };
          run(history);
          // A scheduler syncs everything, then proposes only claims feasible on what it saw.
          const view = new SchedulerView(space, partitions);
          for (const s of cell.snapshotAll()) view.applySync(s, 0);
          const claims: Claim[] = [];
          picks.forEach((p, i) => {
            const n = view.node(nodeId(p.node));
            const demand = Float64Array.from(p.demand);
            if (n === undefined || n.condition !== 'ready' || !fitsWith(n.capacity, n.allocated, n.reserved, demand)) return;
            if (p.constrained && n.labels.zone !== 'a') return;
            view.assume(n.id, demand);
            claims.push({
              taskId: `fresh-${i}`, jobId: 'j', nodeId: n.id, demand, seenVersion: n.version,
              constraints: p.constrained ? [{ label: 'zone', op: 'in', values: ['a'] }] : undefined,
            });
          });
          const txn: Transaction = { id: 'x', schedulerId: 's', kind, claims };
          // Nothing changed yet: both granularities accept every claim.
          for (const g of GRANULARITIES) expect(validateTxn(cell, txn, g).accepted).toHaveLength(claims.length);
          // Others commit and nodes change meanwhile.
          run(concurrent);
          const coarse = validateTxn(cell, txn, 'coarse');
          const fine = validateTxn(cell, txn, 'fine');
          for (const i of coarse.accepted) expect(fine.accepted).toContain(i);
          // On a node that did not change since the view, the two agree.
          for (let i = 0; i < claims.length; i++) {
            if (cell.node(claims[i].nodeId)!.version === claims[i].seenVersion && kind === 'incremental') {
              expect(coarse.accepted.includes(i)).toBe(fine.accepted.includes(i));
            }
          }
        },
      ),
      RUNS,
    );
  });

  it('(e) a view kept up to date by partition syncs from any version equals the cell, node by node', () => {
    fc.assert(
      fc.property(
        units.chain((u) => fc.tuple(nodeDefs(u), commands(u, true))),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        ([defs, cmds], partitions, changeLogLimit) => {
          const cell = buildCell(defs, partitions, changeLogLimit);
          const committer = new Committer(cell, { granularity: 'fine' });
          const view = new SchedulerView(space, partitions);
          // A second view synced once now and once at the end: it syncs from an old version.
          const lazy = new SchedulerView(space, partitions);
          for (let p = 0; p < partitions; p++) lazy.applySync(cell.sync(p, -1), 0);
          let lastReply: TxnResult | undefined;
          let now = 0;
          const syncInto = (v: SchedulerView, p: number) => {
            const since = v.partitions[p].version;
            const s = cell.sync(p, since);
            expect(new Set(s.nodes.map((n) => n.id)).size).toBe(s.nodes.length);
            for (const n of s.nodes) expect(n.partition).toBe(p);
            if (s.kind === 'delta') for (const n of s.nodes) expect(n.version).toBeGreaterThan(since);
            v.applySync(s, now);
          };
          const expectPartitionEqual = (v: SchedulerView, p: number) => {
            const want = cell.partitionNodes(p).map(plainNode).sort(byId);
            const got = v.partitions[p].nodes.map(plainNode).sort(byId);
            expect(got).toEqual(want);
            expect(v.partitions[p].version).toBe(cell.partitionVersion(p));
          };
          for (const c of cmds) {
            now += 1;
            if (c.t === 'txn') lastReply = committer.commit({ id: `v${++txnSeq}`, schedulerId: 's', kind: c.kind, claims: c.claims.map((p) => toClaim(cell, p)) }, txnSeq);
            else if (c.t === 'sync') {
              const p = c.partition % partitions;
              syncInto(view, p);
              expectPartitionEqual(view, p);
            } else if (c.t === 'refresh') {
              if (lastReply !== undefined) view.refreshNodes(lastReply.nodes);
            } else applyOther(cell, c);
          }
          now += 1;
          for (const v of [view, lazy]) {
            for (let p = 0; p < partitions; p++) {
              syncInto(v, p);
              expectPartitionEqual(v, p);
            }
            expect(v.nodeCount).toBe(cell.nodeCount);
            for (const n of cell.nodes) expect(plainNode(v.node(n.id)!)).toEqual(plainNode(n));
          }
        },
      ),
      RUNS,
    );
  });
});

const byId = (a: unknown, b: unknown) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1);

describe('(f) bad input is rejected with a typed reason, never thrown, never applied', () => {
  const badDemand = fc.oneof(
    fc.constant([-1, 0, 0]),
    fc.constant([0, NaN, 0]),
    fc.constant([0, 0, Infinity]),
    fc.constant([0, 0, -Infinity]),
    fc.constant([1, 1]),
    fc.constant([1, 1, 1, 1]),
    fc.tuple(fc.double(), fc.double(), fc.double()).filter((d) => d.some((x) => !(x >= 0 && x < Infinity))),
  );
  type Bad = { kind: 'demand'; demand: readonly number[] } | { kind: 'node' } | { kind: 'dupPlaced' } | { kind: 'dupInTxn' } | { kind: 'emptyId'; field: 'taskId' | 'nodeId' | 'jobId' };
  const bad: fc.Arbitrary<Bad> = fc.oneof(
    badDemand.map((demand) => ({ kind: 'demand' as const, demand })),
    fc.constant({ kind: 'node' as const }),
    fc.constant({ kind: 'dupPlaced' as const }),
    fc.constant({ kind: 'dupInTxn' as const }),
    fc.constantFrom('taskId', 'nodeId', 'jobId').map((field) => ({ kind: 'emptyId' as const, field })),
  );
  const expectedReason: Record<Bad['kind'], ConflictReason> = {
    demand: 'invalid', node: 'node_gone', dupPlaced: 'duplicate_task', dupInTxn: 'duplicate_task', emptyId: 'invalid',
  };

  it('bad claims among good ones', () => {
    fc.assert(
      fc.property(fc.array(bad, { minLength: 1, maxLength: 5 }), fc.constantFrom(...GRANULARITIES), fc.constantFrom(...TXN_KINDS), (bads, granularity, kind) => {
        const cell = buildCell([{ cap: [100, 100, 10] }, { cap: [100, 100, 10] }], 2);
        const committer = new Committer(cell, { granularity });
        committer.commit({ id: 'seed', schedulerId: 's', kind: 'incremental', claims: [{ taskId: 'placed', jobId: 'j', nodeId: nodeId(0), demand: Float64Array.of(1, 1, 0), seenVersion: 1 }] }, 0);
        const good = (i: number): Claim => ({ taskId: `good-${i}`, jobId: 'j', nodeId: nodeId(i % 2), demand: Float64Array.of(1, 1, 0), seenVersion: cell.node(nodeId(i % 2))!.version });
        const claims: Claim[] = [];
        const want: (ConflictReason | 'ok')[] = [];
        bads.forEach((b, i) => {
          claims.push(good(i));
          want.push('ok');
          const g = good(100 + i);
          const c: Claim =
            b.kind === 'demand' ? { ...g, demand: Float64Array.from(b.demand) }
            : b.kind === 'node' ? { ...g, nodeId: 'nowhere' }
            : b.kind === 'dupPlaced' ? { ...g, taskId: 'placed' }
            : b.kind === 'dupInTxn' ? { ...g, taskId: `good-${i}` }
            : { ...g, [b.field]: '' };
          claims.push(c);
          want.push(expectedReason[b.kind]);
        });
        const txn: Transaction = { id: 'bad', schedulerId: 's', kind, claims };
        // The verdict, claim by claim: each bad claim with its own reason.
        const verdict = validateTxn(cell, txn, granularity);
        const got = claims.map((_, i) => verdict.rejected.find((x) => x.index === i)?.reason ?? 'ok');
        expect(got).toEqual(kind === 'incremental' ? want : want.map((w) => (w === 'ok' ? 'gang_aborted' : w)));
        // Committed: never thrown; the good claims go through (not in a gang), the bad never do.
        const before = fingerprint(cell);
        let r: TxnResult | undefined;
        expect(() => (r = committer.commit(txn, 1))).not.toThrow();
        expect(r!.rejected.map((x) => x.reason)).toEqual(got.filter((x) => x !== 'ok'));
        if (kind === 'all-or-nothing') {
          expect(r!.committed).toEqual([]);
          expect(fingerprint(cell)).toEqual(before);
        } else {
          expect(r!.committed).toEqual(bads.map((_, i) => `good-${i}`));
        }
        expect(cell.allocationOf('placed')!.committedAt).toBe(0);
        expect(cell.isTaskPlaced('good-100')).toBe(false);
        expect(cell.placedTaskCount).toBe(1 + r!.committed.length);
        expectConsistent(cell);
      }),
      RUNS,
    );
  });

  it('bad job specs get { ok: false, error: { path, message } }', () => {
    const good = () => ({ id: 'j', tasks: [{ name: 'a', count: 2, resources: { cpu_millis: 100 } as Record<string, number> }, { name: 'b', count: 1, resources: { mem_mib: 64 } as Record<string, number> }] });
    type Spec = ReturnType<typeof good>;
    // Each breaker spoils one field of group g and says which path the error must name.
    const breakers: [string, (s: Spec, g: number, x: number) => [unknown, string]][] = [
      ['empty job', (s) => [{ ...s, tasks: [] }, 'tasks']],
      ['negative resource', (s, g, x) => ((s.tasks[g].resources.cpu_millis = -1 - x), [s, `tasks[${g}].resources.cpu_millis`])],
      ['NaN resource', (s, g) => ((s.tasks[g].resources.gpu = NaN), [s, `tasks[${g}].resources.gpu`])],
      ['infinite resource', (s, g) => ((s.tasks[g].resources.gpu = Infinity), [s, `tasks[${g}].resources.gpu`])],
      ['unknown resource', (s, g) => ((s.tasks[g].resources.disk_gib = 1), [s, `tasks[${g}].resources.disk_gib`])],
      ['count 0', (s, g, x) => ((s.tasks[g].count = -x), [s, `tasks[${g}].count`])],
      ['duplicate group', (s) => ((s.tasks[1].name = 'a'), [s, 'tasks[1].name'])],
      ['bad id', (s, _, x) => [{ ...s, id: ['', ' ', 'a/b', 'é'][x % 4] }, 'id']],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...breakers), fc.nat(1), fc.nat(10), ([, breakIt], g, x) => {
        const [input, path] = breakIt(good(), g, x);
        let r: ReturnType<typeof validateJobSpec> | undefined;
        expect(() => (r = validateJobSpec(input, space))).not.toThrow();
        expect(r).toMatchObject({ ok: false, error: { path } });
        if (!r!.ok) expect(r!.error.message.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });
});
