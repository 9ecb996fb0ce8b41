/** Small builders shared by the core's tests (not a test file itself). */
import {
  CellState,
  type CellOptions,
  type Claim,
  type Constraint,
  type Labels,
  type NodeSnapshot,
  ResourceSpace,
  type Transaction,
  type TxnKind,
} from '../src/index.ts';

/** Three dimensions are enough to catch per-dimension mistakes and keep tables readable. */
export const space = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu']);

export function vec(...amounts: number[]): Float64Array {
  const v = space.zero();
  amounts.forEach((a, i) => (v[i] = a));
  return v;
}

export interface NodeDef {
  readonly id: string;
  readonly cap: readonly number[];
  readonly labels?: Labels;
}

export function makeCell(nodes: readonly NodeDef[], partitions = 1, options: CellOptions = {}): CellState {
  const cell = new CellState(space, partitions, options);
  for (const n of nodes) cell.upsertNode({ id: n.id, labels: n.labels ?? {}, capacity: vec(...n.cap) });
  return cell;
}

export interface ClaimDef {
  readonly task: string;
  readonly node: string;
  readonly demand: readonly number[];
  readonly job?: string;
  /** Defaults to the node's current version in `cell` (0 for an unknown node). */
  readonly seen?: number;
  readonly constraints?: readonly Constraint[];
}

export function claimOn(cell: CellState, d: ClaimDef): Claim {
  return {
    taskId: d.task,
    jobId: d.job ?? 'job',
    nodeId: d.node,
    demand: vec(...d.demand),
    seenVersion: d.seen ?? cell.node(d.node)?.version ?? 0,
    constraints: d.constraints,
  };
}

let txnCounter = 0;
export function txnOf(claims: readonly Claim[], kind: TxnKind = 'incremental', id = `txn-${++txnCounter}`): Transaction {
  return { id, schedulerId: 's0', kind, claims };
}

/** Everything observable about a cell, as plain data, to compare before/after. */
export function fingerprint(cell: CellState): unknown {
  const nodes = [...cell.nodes]
    .map((n) => ({
      id: n.id,
      partition: n.partition,
      condition: n.condition,
      version: n.version,
      labels: n.labels,
      capacity: [...n.capacity],
      allocated: [...n.allocated],
      allocations: [...n.allocations.values()].map((a) => ({ ...a, demand: [...a.demand] })).sort((a, b) => (a.taskId < b.taskId ? -1 : 1)),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  const partitions = Array.from({ length: cell.partitionCount }, (_, p) => cell.partitionVersion(p));
  const placed = [...cell.placedTasks()].map((a) => `${a.taskId}@${a.nodeId}`).sort();
  return { nodes, partitions, placed };
}

/** The scheduler-visible fields of a node, as plain data. */
export function plainNode(n: NodeSnapshot): unknown {
  return {
    id: n.id,
    partition: n.partition,
    labels: n.labels,
    capacity: [...n.capacity],
    allocated: [...n.allocated],
    condition: n.condition,
    version: n.version,
  };
}
