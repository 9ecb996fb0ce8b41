/**
 * The authoritative cell state: nodes split into P partitions, each with a version and a
 * bounded change log, plus where every placed task lives. No I/O; only the committer (and
 * replay of the commit log) calls the mutating methods.
 */
import type { Labels } from './constraints.ts';
import type { Allocation, NodeCondition, NodeSnapshot, NodeState } from './node.ts';
import { partitionOf } from './partitioning.ts';
import { addInto, type ResourceSpace, type ResourceVector } from './resources.ts';
import type { Claim } from './txn.ts';

export interface NodeRegistration {
  readonly id: string;
  readonly labels: Labels;
  readonly capacity: ResourceVector;
}

/** "Partition p since version v": the changed nodes, or the whole partition when v is too old. */
export interface PartitionSync {
  readonly partition: number;
  /** The partition's version after applying this sync. */
  readonly version: number;
  readonly kind: 'delta' | 'snapshot';
  readonly nodes: readonly NodeSnapshot[];
}

interface PartitionState {
  readonly id: number;
  version: number;
  readonly nodes: NodeState[];
  /** Change log as two parallel ring-less arrays, trimmed from the front when over the limit. */
  logVersions: number[];
  logNodes: NodeState[];
  /** Versions ≤ this are no longer in the log; a sync from before it gets a snapshot. */
  logFloor: number;
}

export interface CellOptions {
  /** Change-log entries kept per partition before old ones are dropped (default 4096). */
  readonly changeLogLimit?: number;
}

export function snapshotOf(n: NodeState): NodeSnapshot {
  return {
    id: n.id,
    partition: n.partition,
    labels: n.labels,
    capacity: n.capacity,
    allocated: Float64Array.from(n.allocated),
    condition: n.condition,
    version: n.version,
  };
}

export class CellState {
  readonly space: ResourceSpace;
  readonly partitionCount: number;
  private readonly changeLogLimit: number;
  private readonly nodeList: NodeState[] = [];
  private readonly byId = new Map<string, NodeState>();
  private readonly parts: PartitionState[];
  private readonly placed = new Map<string, Allocation>();

  constructor(space: ResourceSpace, partitions: number, options: CellOptions = {}) {
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be an integer ≥ 1, got ${partitions}`);
    this.space = space;
    this.partitionCount = partitions;
    this.changeLogLimit = options.changeLogLimit ?? 4096;
    this.parts = Array.from({ length: partitions }, (_, id) => ({
      id, version: 0, nodes: [], logVersions: [], logNodes: [], logFloor: 0,
    }));
  }

  get nodes(): readonly NodeState[] {
    return this.nodeList;
  }

  get nodeCount(): number {
    return this.nodeList.length;
  }

  node(id: string): NodeState | undefined {
    return this.byId.get(id);
  }

  partitionVersion(p: number): number {
    return this.parts[p].version;
  }

  partitionNodes(p: number): readonly NodeState[] {
    return this.parts[p].nodes;
  }

  isTaskPlaced(taskId: string): boolean {
    return this.placed.has(taskId);
  }

  allocationOf(taskId: string): Allocation | undefined {
    return this.placed.get(taskId);
  }

  get placedTaskCount(): number {
    return this.placed.size;
  }

  placedTasks(): IterableIterator<Allocation> {
    return this.placed.values();
  }

  /** Bumps the node's partition version, stamps the node, and logs the change. */
  private touch(n: NodeState): void {
    const p = this.parts[n.partition];
    p.version += 1;
    n.version = p.version;
    p.logVersions.push(p.version);
    p.logNodes.push(n);
    if (p.logVersions.length > this.changeLogLimit * 2) {
      // Trim in bulk (amortised O(1) per change) rather than shifting on every push.
      const drop = p.logVersions.length - this.changeLogLimit;
      p.logFloor = p.logVersions[drop - 1];
      p.logVersions = p.logVersions.slice(drop);
      p.logNodes = p.logNodes.slice(drop);
    }
  }

  /**
   * Registers a node, or re-registers a known one (new labels/capacity, back to ready).
   * Capacity is not checked against allocations here: a shrunk node simply stops fitting.
   */
  upsertNode(reg: NodeRegistration): NodeState {
    if (reg.capacity.length !== this.space.size) throw new RangeError(`capacity of ${reg.id} has ${reg.capacity.length} dimensions, the cell has ${this.space.size}`);
    for (const c of reg.capacity) {
      if (!(c >= 0) || c === Infinity) throw new RangeError(`capacity of ${reg.id} must be finite and ≥ 0 on every resource`);
    }
    let n = this.byId.get(reg.id);
    if (n === undefined) {
      n = {
        id: reg.id,
        index: this.nodeList.length,
        partition: partitionOf(reg.id, this.partitionCount),
        labels: reg.labels,
        capacity: reg.capacity,
        allocated: this.space.zero(),
        condition: 'ready',
        version: 0,
        allocations: new Map(),
      };
      this.nodeList.push(n);
      this.byId.set(n.id, n);
      this.parts[n.partition].nodes.push(n);
    } else {
      n.labels = reg.labels;
      n.capacity = reg.capacity;
      n.condition = 'ready';
    }
    this.touch(n);
    return n;
  }

  /** Changes a node's condition; returns false for an unknown node. */
  setCondition(nodeId: string, condition: NodeCondition): boolean {
    const n = this.byId.get(nodeId);
    if (n === undefined) return false;
    if (n.condition === condition) return true;
    n.condition = condition;
    this.touch(n);
    return true;
  }

  /** Books claims that validateTxn accepted. Each touched node's version increases once per claim. */
  applyClaims(claims: readonly Claim[], committedAt: number): void {
    for (const c of claims) {
      const n = this.byId.get(c.nodeId);
      if (n === undefined) throw new RangeError(`applyClaims: unknown node ${c.nodeId} (claims must be validated first)`);
      if (this.placed.has(c.taskId)) throw new RangeError(`applyClaims: task ${c.taskId} already placed (claims must be validated first)`);
      const a: Allocation = { taskId: c.taskId, jobId: c.jobId, nodeId: c.nodeId, demand: c.demand, committedAt };
      addInto(n.allocated, c.demand);
      n.allocations.set(c.taskId, a);
      this.placed.set(c.taskId, a);
      this.touch(n);
    }
  }

  /** Frees a task's resources (it ended, failed, or its node was lost). */
  release(taskId: string): Allocation | undefined {
    const a = this.placed.get(taskId);
    if (a === undefined) return undefined;
    this.placed.delete(taskId);
    const n = this.byId.get(a.nodeId)!;
    n.allocations.delete(taskId);
    // Re-summed rather than subtracted: with fractional amounts, `allocated - demand` drifts from
    // the sum of what is left (and may drift below it, letting a later claim over-commit). The
    // sum in insertion order is exactly what applyClaims would have built. O(tasks on the node).
    n.allocated.fill(0);
    for (const rest of n.allocations.values()) addInto(n.allocated, rest.demand);
    this.touch(n);
    return a;
  }

  /** Releases every task on a node (e.g. when it is lost) and returns them. */
  releaseNode(nodeId: string): Allocation[] {
    const n = this.byId.get(nodeId);
    if (n === undefined) return [];
    const out = [...n.allocations.values()];
    for (const a of out) this.release(a.taskId);
    return out;
  }

  /**
   * Partition `p` since version `since`: a delta of the nodes changed after it (latest state of
   * each, once), or a snapshot when `since` is older than the log or not a version we issued.
   */
  sync(p: number, since: number): PartitionSync {
    const part = this.parts[p];
    if (part === undefined) throw new RangeError(`sync of partition ${p}, the cell has ${this.parts.length}`);
    if (since === part.version) return { partition: p, version: part.version, kind: 'delta', nodes: [] };
    // Written as `!(in range)` so that a NaN `since` gets a snapshot, not an empty "up to date" delta.
    if (!(since >= part.logFloor && since >= 0 && since <= part.version)) {
      return { partition: p, version: part.version, kind: 'snapshot', nodes: part.nodes.map(snapshotOf) };
    }
    const seen = new Set<NodeState>();
    const nodes: NodeSnapshot[] = [];
    const vs = part.logVersions;
    for (let i = vs.length - 1; i >= 0 && vs[i] > since; i--) {
      const n = part.logNodes[i];
      if (!seen.has(n)) {
        seen.add(n);
        nodes.push(snapshotOf(n));
      }
    }
    return { partition: p, version: part.version, kind: 'delta', nodes };
  }

  /** Every partition, in full: what a state-sync round or a fresh view needs. */
  snapshotAll(): PartitionSync[] {
    return this.parts.map((_, p) => this.sync(p, -1));
  }

  /** Sum of capacity and allocation over ready nodes, per resource. */
  totals(): { capacity: ResourceVector; allocated: ResourceVector } {
    const capacity = this.space.zero();
    const allocated = this.space.zero();
    for (const n of this.nodeList) {
      if (n.condition !== 'ready') continue;
      addInto(capacity, n.capacity);
      addInto(allocated, n.allocated);
    }
    return { capacity, allocated };
  }
}
