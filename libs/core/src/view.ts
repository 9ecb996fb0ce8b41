/**
 * A scheduler's local, possibly stale, partitioned view of the cell (ParSync). Each partition
 * remembers when it was last synced; placements book resources optimistically ("assume", as
 * kube-scheduler does) until the committer answers.
 */
import type { PartitionSync } from './cell.ts';
import type { NodeSnapshot } from './node.ts';
import { bookDevices, gpuDims } from './gpu.ts';
import { addInto, subtractInto, type ResourceSpace, type ResourceVector } from './resources.ts';

/** A node in a view: its last known state plus what this scheduler has proposed but not yet heard back on. */
export interface ViewNode extends NodeSnapshot {
  /** In-flight bookings of this scheduler (undefined when none). */
  reserved: ResourceVector | undefined;
  /** In-flight bookings of this scheduler per GPU device, milli (undefined when none). */
  reservedGpus?: Float64Array | undefined;
}

export interface PartitionView {
  readonly id: number;
  /** Partition version of the last sync applied (-1: never synced). */
  version: number;
  /** Time (ms, caller's clock) of the last sync applied; -Infinity when never synced. */
  syncedAt: number;
  readonly nodes: ViewNode[];
}

export class SchedulerView {
  readonly space: ResourceSpace;
  readonly partitions: PartitionView[];
  private readonly byId = new Map<string, ViewNode>();
  /** Bumped on every change; lets placement caches know when to recompute. */
  generation = 0;
  /**
   * Nodes that gained room in the syncs applied since the last `takeRoomFreed` (new, ready again,
   * less allocated or more capacity), kept only once `trackRoom` is set: what a scheduler wakes
   * jobs waiting for room by, instead of retrying them on a timer.
   */
  private roomFreed: ViewNode[] | undefined;

  constructor(space: ResourceSpace, partitionCount: number) {
    this.space = space;
    this.partitions = Array.from({ length: partitionCount }, (_, id) => ({ id, version: -1, syncedAt: -Infinity, nodes: [] }));
  }

  node(id: string): ViewNode | undefined {
    return this.byId.get(id);
  }

  get nodeCount(): number {
    return this.byId.size;
  }

  /** Starts keeping the nodes that gain room (see `takeRoomFreed`). */
  trackRoom(): void {
    this.roomFreed ??= [];
  }

  /** The nodes that gained room since the last call (each at most once per sync), and forgets them. */
  takeRoomFreed(): ViewNode[] {
    const out = this.roomFreed ?? [];
    if (this.roomFreed !== undefined) this.roomFreed = [];
    return out;
  }

  /** Staleness of partition p at `now` (Infinity when never synced). */
  staleness(p: number, now: number): number {
    return now - this.partitions[p].syncedAt;
  }

  /** Applies a partition sync received at `now`. A snapshot replaces the partition's nodes. */
  applySync(sync: PartitionSync, now: number): void {
    const part = this.partitions[sync.partition];
    if (part === undefined) throw new RangeError(`sync for partition ${sync.partition}, the view has ${this.partitions.length}`);
    // A delta overtaken by a newer sync tells us nothing new: keep version and freshness as they are.
    if (sync.kind === 'delta' && sync.version < part.version) return;
    // A snapshot older than what we hold means the cell was rebuilt: take it as it is.
    const force = sync.kind === 'snapshot' && sync.version < part.version;
    if (sync.kind === 'snapshot') {
      const keep = new Set(sync.nodes.map((n) => n.id));
      for (const n of part.nodes) if (!keep.has(n.id)) this.byId.delete(n.id);
      part.nodes.length = 0;
      for (const s of sync.nodes) part.nodes.push(this.upsert(s, force));
    } else {
      for (const s of sync.nodes) {
        const existed = this.byId.has(s.id);
        const n = this.upsert(s, false);
        if (!existed) part.nodes.push(n);
      }
    }
    part.version = sync.version;
    part.syncedAt = now;
    this.generation++;
  }

  /**
   * Applies fresher node states (e.g. from a commit reply). Older versions than what the view
   * holds are ignored; the partition's sync time does not change.
   */
  refreshNodes(nodes: readonly NodeSnapshot[]): void {
    for (const s of nodes) {
      const existed = this.byId.get(s.id);
      if (existed === undefined) {
        const part = this.partitions[s.partition];
        if (part !== undefined) part.nodes.push(this.upsert(s, false));
      } else {
        this.upsert(s, false);
      }
    }
    this.generation++;
  }

  /** Optimistically books `demand` (and its GPU `devices`, if any) on a node until the committer answers. */
  assume(nodeId: string, demand: ResourceVector, devices?: readonly number[]): void {
    const n = this.byId.get(nodeId);
    if (n === undefined) return;
    if (n.reserved === undefined) n.reserved = new Float64Array(demand.length);
    addInto(n.reserved, demand);
    if (devices !== undefined && devices.length > 0) {
      const count = n.gpus?.length ?? 0;
      if (n.reservedGpus === undefined || n.reservedGpus.length < count) {
        const grown = new Float64Array(count);
        if (n.reservedGpus !== undefined) grown.set(n.reservedGpus);
        n.reservedGpus = grown;
      }
      bookDevices(n.reservedGpus, devices, demand, gpuDims(this.space), 1);
    }
    this.generation++;
  }

  /**
   * Forgets every node's running-task list: syncs stopped carrying them, so the lists would go
   * stale (a node without a list is one whose tasks this view does not know).
   */
  dropTasks(): void {
    for (const n of this.byId.values()) if (n.tasks !== undefined) delete n.tasks;
    this.generation++;
  }

  /** Drops an optimistic booking (the committer answered, either way). */
  forget(nodeId: string, demand: ResourceVector, devices?: readonly number[]): void {
    const n = this.byId.get(nodeId);
    if (n === undefined || n.reserved === undefined) return;
    subtractInto(n.reserved, demand);
    if (devices !== undefined && n.reservedGpus !== undefined) bookDevices(n.reservedGpus, devices, demand, gpuDims(this.space), -1);
    this.generation++;
  }

  /** Inserts or overwrites a node from a snapshot, keeping its in-flight reservations. */
  private upsert(s: NodeSnapshot, force: boolean): ViewNode {
    const n = this.byId.get(s.id);
    if (n === undefined) {
      const created: ViewNode = {
        id: s.id, partition: s.partition, labels: s.labels, capacity: s.capacity,
        allocated: s.allocated, condition: s.condition, version: s.version, gpus: s.gpus, reserved: undefined, reservedGpus: undefined,
      };
      if (s.tasks !== undefined) created.tasks = s.tasks;
      this.byId.set(s.id, created);
      this.roomFreed?.push(created);
      return created;
    }
    // Node versions only grow, so an older state (a sync overtaken by a commit reply) is ignored.
    if (force || s.version >= n.version) {
      if (this.roomFreed !== undefined && s.version !== n.version && gainsRoom(n, s)) this.roomFreed.push(n);
      n.labels = s.labels;
      n.capacity = s.capacity;
      n.allocated = s.allocated;
      n.gpus = s.gpus;
      n.condition = s.condition;
      n.version = s.version;
      // A commit reply's node states carry no tasks: the last synced list stays (the committer
      // refuses an eviction whose victim is gone).
      if (s.tasks !== undefined) n.tasks = s.tasks;
    }
    return n;
  }
}

/** Whether the new state of a node has room its last one had not: ready again, less allocated or more capacity somewhere. */
function gainsRoom(last: NodeSnapshot, next: NodeSnapshot): boolean {
  if (next.condition === 'ready' && last.condition !== 'ready') return true;
  for (let k = 0; k < next.allocated.length; k++) if (next.allocated[k] < last.allocated[k] || next.capacity[k] > last.capacity[k]) return true;
  return false;
}
