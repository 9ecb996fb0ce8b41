/**
 * The authoritative cell state: nodes split into P partitions, each with a version and a
 * bounded change log, plus where every placed task lives. No I/O; only the committer (and
 * replay of the commit log) calls the mutating methods.
 */
import type { Labels } from './constraints.ts';
import { ADMINISTRATIVE_CONDITIONS, NODE_CONDITIONS, type Allocation, type NodeCondition, type NodeSnapshot, type NodeState } from './node.ts';
import { gpuDims, withDeviceMilli, type GpuDims } from './gpu.ts';
import { applyDevices, importDevices, rebuildDevices } from './gpu-cell.ts';
import { partitionOf } from './partitioning.ts';
import { DEFAULT_QUEUE, queuePrefixes } from './queues/tree.ts';
import { addInto, subtractInto, type ResourceSpace, type ResourceVector } from './resources.ts';
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

/** One node of a {@link CellStateData}: its state without the allocations (listed apart, in booking order). */
export interface NodeData {
  readonly id: string;
  readonly labels: Labels;
  readonly capacity: ResourceVector;
  readonly allocated: ResourceVector;
  readonly condition: NodeCondition;
  readonly version: number;
}

/** One partition of a {@link CellStateData}: its version and change log (nodes as indices into `nodes`). */
export interface PartitionData {
  readonly version: number;
  readonly logFloor: number;
  readonly logVersions: readonly number[];
  readonly logNodes: readonly number[];
}

/**
 * A CellState as plain data (`exportState` / `importState`), for snapshots: everything that makes
 * a restored cell answer exactly like the original (versions, change logs, booking order).
 */
export interface CellStateData {
  readonly partitions: number;
  readonly dims: number;
  /** Nodes in registration order (a node's `index`). */
  readonly nodes: readonly NodeData[];
  readonly partitionStates: readonly PartitionData[];
  /** Every allocation in booking order (per node this is also the node's own order). */
  readonly allocations: readonly Allocation[];
}

export function snapshotOf(n: NodeState): NodeSnapshot {
  const s: NodeSnapshot = {
    id: n.id,
    partition: n.partition,
    labels: n.labels,
    capacity: n.capacity,
    allocated: Float64Array.from(n.allocated),
    condition: n.condition,
    version: n.version,
  };
  if (n.gpus !== undefined) s.gpus = Float64Array.from(n.gpus);
  return s;
}

export class CellState {
  readonly space: ResourceSpace;
  readonly partitionCount: number;
  private readonly changeLogLimit: number;
  private readonly gpu: GpuDims;
  private readonly nodeList: NodeState[] = [];
  private readonly byId = new Map<string, NodeState>();
  private readonly parts: PartitionState[];
  private readonly placed = new Map<string, Allocation>();
  /**
   * Per node id, how many of its allocations have a fractional (non-whole) amount; nodes without
   * any are absent. While a node has none, its `allocated` is a sum of whole numbers, exact in
   * float64, so a release may subtract instead of re-summing.
   */
  private readonly fractionalOn = new Map<string, number>();
  /** Non-preemptible allocation per leaf queue path (DESIGN §10 `allocated`), kept with every booking and release. */
  private readonly queueAlloc = new Map<string, Float64Array>();
  /** Per job, its tasks per node id (placement rules read where a job's tasks are, DESIGN §12). */
  private readonly jobNodes = new Map<string, Map<string, number>>();

  constructor(space: ResourceSpace, partitions: number, options: CellOptions = {}) {
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be an integer ≥ 1, got ${partitions}`);
    this.space = space;
    this.gpu = gpuDims(space);
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
    const capacity = withDeviceMilli(reg.capacity, this.gpu);
    let n = this.byId.get(reg.id);
    if (n === undefined) {
      n = {
        id: reg.id,
        index: this.nodeList.length,
        partition: partitionOf(reg.id, this.partitionCount),
        labels: reg.labels,
        capacity,
        allocated: this.space.zero(),
        condition: 'ready',
        version: 0,
        allocations: new Map(),
      };
      rebuildDevices(n, this.gpu);
      this.nodeList.push(n);
      this.byId.set(n.id, n);
      this.parts[n.partition].nodes.push(n);
    } else {
      n.labels = reg.labels;
      n.capacity = capacity;
      // A re-registration brings a lost node back; a cordon or drain stays until uncordoned.
      if (!ADMINISTRATIVE_CONDITIONS.includes(n.condition)) n.condition = 'ready';
      rebuildDevices(n, this.gpu);
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
      const devices = applyDevices(n, c, this.gpu);
      const base: Allocation = c.queue === undefined && c.preemptible === undefined
        ? { taskId: c.taskId, jobId: c.jobId, nodeId: c.nodeId, demand: c.demand, committedAt }
        : { taskId: c.taskId, jobId: c.jobId, nodeId: c.nodeId, demand: c.demand, committedAt, queue: c.queue, preemptible: c.preemptible };
      const a: Allocation = devices === undefined ? base : { ...base, devices };
      addInto(n.allocated, c.demand);
      this.bookQueue(a);
      this.bookJob(a, 1);
      n.allocations.set(c.taskId, a);
      this.placed.set(c.taskId, a);
      if (!isWhole(c.demand)) this.fractionalOn.set(n.id, (this.fractionalOn.get(n.id) ?? 0) + 1);
      this.touch(n);
    }
  }

  /** Frees a task's resources (it ended, failed, or its node was lost). */
  release(taskId: string): Allocation | undefined {
    const a = this.placed.get(taskId);
    if (a === undefined) return undefined;
    this.placed.delete(taskId);
    this.bookJob(a, -1);
    if (a.preemptible !== true) for (const path of queuePrefixes(a.queue ?? DEFAULT_QUEUE)) {
      const q = this.queueAlloc.get(path);
      if (q !== undefined) subtractInto(q, a.demand);
    }
    const n = this.byId.get(a.nodeId)!;
    n.allocations.delete(taskId);
    const fractional = this.fractionalOn.get(n.id);
    if (fractional === undefined && wholeSafe(n.allocated)) {
      // Whole numbers only (below 2^53): the subtraction is exact and equals the re-sum. O(1).
      const v = a.demand;
      for (let i = 0; i < v.length; i++) n.allocated[i] -= v[i];
    } else {
      if (fractional !== undefined && !isWhole(a.demand)) {
        if (fractional <= 1) this.fractionalOn.delete(n.id);
        else this.fractionalOn.set(n.id, fractional - 1);
      }
      // Re-summed rather than subtracted: with fractional amounts, `allocated - demand` drifts from
      // the sum of what is left (and may drift below it, letting a later claim over-commit). The
      // sum in insertion order is exactly what applyClaims would have built. O(tasks on the node).
      n.allocated.fill(0);
      for (const rest of n.allocations.values()) addInto(n.allocated, rest.demand);
    }
    if (a.devices !== undefined) rebuildDevices(n, this.gpu);
    this.touch(n);
    return a;
  }

  /**
   * Non-preemptible allocation per queue path, inner queues included (a booking counts on its
   * leaf and every dotted prefix: `prod.web` also counts on `prod`); `default` for claims without
   * a queue. The `allocated` of DESIGN §10, what quota checks and DRF ordering read. Live: do not modify.
   */
  /** Tasks of `jobId` per node id (undefined: none placed). */
  tasksOfJob(jobId: string): ReadonlyMap<string, number> | undefined {
    return this.jobNodes.get(jobId);
  }

  private bookJob(a: Allocation, delta: 1 | -1): void {
    let m = this.jobNodes.get(a.jobId);
    if (m === undefined) {
      if (delta < 0) return;
      this.jobNodes.set(a.jobId, (m = new Map()));
    }
    const n = (m.get(a.nodeId) ?? 0) + delta;
    if (n > 0) m.set(a.nodeId, n);
    else {
      m.delete(a.nodeId);
      if (m.size === 0) this.jobNodes.delete(a.jobId);
    }
  }

  queueAllocated(): ReadonlyMap<string, ResourceVector> {
    return this.queueAlloc;
  }

  private bookQueue(a: Allocation): void {
    if (a.preemptible === true) return;
    for (const path of queuePrefixes(a.queue ?? DEFAULT_QUEUE)) {
      let q = this.queueAlloc.get(path);
      if (q === undefined) this.queueAlloc.set(path, (q = this.space.zero()));
      addInto(q, a.demand);
    }
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

  /**
   * The whole state as plain data. Pure: the cell is not changed. `allocated` is copied; labels,
   * capacities and allocations are never changed in place (only replaced), so they are shared.
   */
  exportState(): CellStateData {
    return {
      partitions: this.partitionCount,
      dims: this.space.size,
      nodes: this.nodeList.map((n) => ({
        id: n.id, labels: n.labels, capacity: n.capacity, allocated: Float64Array.from(n.allocated),
        condition: n.condition, version: n.version,
      })),
      partitionStates: this.parts.map((p) => ({
        version: p.version, logFloor: p.logFloor, logVersions: [...p.logVersions], logNodes: p.logNodes.map((n) => n.index),
      })),
      allocations: [...this.placed.values()],
    };
  }

  /**
   * Loads `data` (from `exportState`) into this cell, which must be empty and have the same
   * partition count and dimensions. Everything is checked before anything is changed (node
   * partitions, versions, change logs, allocations, and `allocated` equal to the sum of the
   * node's allocations in booking order, bit for bit); inconsistent data throws a RangeError and
   * leaves the cell empty. Capacity vectors and allocations (with their demand vectors) are taken
   * over, not copied: they are never changed in place, so equal ones may be shared; `allocated`
   * is rebuilt.
   */
  importState(data: CellStateData): void {
    const fail = (msg: string): never => { throw new RangeError(`importState: ${msg}`); };
    if (this.nodeList.length > 0 || this.placed.size > 0 || this.parts.some((p) => p.version > 0)) fail('the cell is not empty');
    if (data.partitions !== this.partitionCount) fail(`data has ${data.partitions} partitions, the cell ${this.partitionCount}`);
    if (data.dims !== this.space.size) fail(`data has ${data.dims} dimensions, the cell ${this.space.size}`);
    if (data.partitionStates.length !== this.partitionCount) fail(`${data.partitionStates.length} partition states for ${this.partitionCount} partitions`);
    const dims = this.space.size;
    const vector = (v: ResourceVector, what: string): ResourceVector => {
      if (!(v instanceof Float64Array) || v.length !== dims) fail(`${what} is not a vector of ${dims} dimensions`);
      for (let k = 0; k < dims; k++) if (!(v[k] >= 0) || v[k] === Infinity) fail(`${what} must be finite and ≥ 0`);
      return v;
    };
    const nodes: NodeState[] = [];
    const byId = new Map<string, NodeState>();
    data.nodes.forEach((d, index) => {
      if (typeof d.id !== 'string' || d.id === '' || byId.has(d.id)) fail(`node ${index}: missing or repeated id`);
      if (!NODE_CONDITIONS.includes(d.condition)) fail(`node ${d.id}: bad condition`);
      if (typeof d.labels !== 'object' || d.labels === null) fail(`node ${d.id}: bad labels`);
      const partition = partitionOf(d.id, this.partitionCount);
      const version = data.partitionStates[partition].version;
      if (!Number.isInteger(d.version) || d.version < 1 || d.version > version) fail(`node ${d.id}: version ${d.version} outside 1..${version}`);
      const n: NodeState = {
        id: d.id, index, partition, labels: d.labels, capacity: vector(d.capacity, `capacity of ${d.id}`),
        allocated: this.space.zero(), condition: d.condition, version: d.version, allocations: new Map(),
      };
      rebuildDevices(n, this.gpu);
      nodes.push(n);
      byId.set(n.id, n);
    });
    const parts = data.partitionStates.map((p, id) => {
      if (!Number.isInteger(p.version) || p.version < 0) fail(`partition ${id}: bad version`);
      if (!Number.isInteger(p.logFloor) || p.logFloor < 0 || p.logFloor > p.version) fail(`partition ${id}: bad change-log floor`);
      if (p.logVersions.length !== p.logNodes.length) fail(`partition ${id}: change-log columns differ in length`);
      let prev = p.logFloor;
      const logNodes = p.logNodes.map((i, k) => {
        const v = p.logVersions[k];
        if (!Number.isInteger(v) || v <= prev || v > p.version) fail(`partition ${id}: change-log versions out of order`);
        prev = v;
        const n = nodes[i];
        if (n === undefined || n.partition !== id) fail(`partition ${id}: change log names node ${i} of another partition`);
        return n;
      });
      return { version: p.version, logFloor: p.logFloor, logVersions: [...p.logVersions], logNodes };
    });
    const placed = new Map<string, Allocation>();
    const fractional = new Map<string, number>();
    let n: NodeState | undefined;
    for (const given of data.allocations) {
      if (n === undefined || n.id !== given.nodeId) n = byId.get(given.nodeId);
      if (n === undefined) fail(`allocation of ${given.taskId} on unknown node ${given.nodeId}`);
      if (typeof given.taskId !== 'string' || placed.has(given.taskId)) fail(`allocation of ${given.taskId}: missing or repeated task id`);
      if (typeof given.jobId !== 'string' || !Number.isFinite(given.committedAt)) fail(`allocation of ${given.taskId}: bad job id or commit position`);
      vector(given.demand, `demand of ${given.taskId}`);
      const a = importDevices(n!, given, this.gpu, fail);
      placed.set(a.taskId, a);
      n!.allocations.set(a.taskId, a);
      addInto(n!.allocated, a.demand);
      if (!isWhole(a.demand)) fractional.set(n!.id, (fractional.get(n!.id) ?? 0) + 1);
    }
    data.nodes.forEach((d, i) => {
      const sum = nodes[i].allocated;
      const given = vector(d.allocated, `allocated of ${d.id}`);
      for (let k = 0; k < dims; k++) if (!Object.is(sum[k], given[k])) fail(`node ${d.id}: allocated differs from the sum of its allocations`);
    });
    // All checked: commit to this cell.
    for (const n of nodes) {
      this.nodeList.push(n);
      this.byId.set(n.id, n);
      this.parts[n.partition].nodes.push(n);
    }
    parts.forEach((p, id) => {
      const into = this.parts[id];
      into.version = p.version;
      into.logFloor = p.logFloor;
      into.logVersions = p.logVersions;
      into.logNodes = p.logNodes;
    });
    for (const [k, a] of placed) {
      this.placed.set(k, a);
      this.bookQueue(a);
      this.bookJob(a, 1);
    }
    for (const [k, c] of fractional) this.fractionalOn.set(k, c);
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

/** Every amount is a whole number (so sums of them are exact in float64 below 2^53). */
function isWhole(v: ResourceVector): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isInteger(v[i])) return false;
  return true;
}

/** Every amount is a whole number ≤ 2^53 − 1 (every partial sum of whole amounts was exact). */
function wholeSafe(v: ResourceVector): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isSafeInteger(v[i])) return false;
  return true;
}
