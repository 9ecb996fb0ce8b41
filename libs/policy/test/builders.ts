/**
 * Fluent builders for policy tests (kube-scheduler's MakePod().Req(...).Obj() style).
 * Kept next to the tests: libs/testkit depends on the protocol package, which policy must not.
 */
import {
  ResourceSpace,
  SchedulerView,
  type Constraint,
  type ConstraintOp,
  type Labels,
  type NodeCondition,
  type NodeSnapshot,
  type Preference,
  type ResourceRecord,
  type TaskRequest,
  type ViewNode,
} from '@tessera/core';
import { beginPlacement, createRng, type PlacementContext } from '../src/index.ts';

export const space = ResourceSpace.default;

export class NodeBuilder {
  private capacity: ResourceRecord = { cpu_millis: 4000, mem_mib: 8192 };
  private allocated: ResourceRecord = {};
  private reservedRec: ResourceRecord | undefined;
  private labelSet: Record<string, string> = {};
  private cond: NodeCondition = 'ready';
  private part = 0;
  private ver = 1;

  constructor(private readonly id: string) {}

  cap(r: ResourceRecord): this { this.capacity = r; return this; }
  alloc(r: ResourceRecord): this { this.allocated = r; return this; }
  reserved(r: ResourceRecord): this { this.reservedRec = r; return this; }
  label(k: string, v: string): this { this.labelSet[k] = v; return this; }
  labels(l: Labels): this { this.labelSet = { ...l }; return this; }
  condition(c: NodeCondition): this { this.cond = c; return this; }
  partition(p: number): this { this.part = p; return this; }
  version(v: number): this { this.ver = v; return this; }

  obj(): ViewNode {
    return {
      id: this.id,
      partition: this.part,
      labels: { ...this.labelSet },
      capacity: space.vector(this.capacity),
      allocated: space.vector(this.allocated),
      condition: this.cond,
      version: this.ver,
      reserved: this.reservedRec === undefined ? undefined : space.vector(this.reservedRec),
    };
  }
}

export const aNode = (id: string): NodeBuilder => new NodeBuilder(id);

export class TaskBuilder {
  private demand: ResourceRecord = { cpu_millis: 500, mem_mib: 512 };
  private cons: Constraint[] | undefined;
  private prefs: Preference[] | undefined;
  private job = 'job';

  constructor(private readonly id: string) {}

  req(r: ResourceRecord): this { this.demand = r; return this; }
  jobId(j: string): this { this.job = j; return this; }
  constraint(label: string, op: ConstraintOp, values?: string[]): this {
    (this.cons ??= []).push(values === undefined ? { label, op } : { label, op, values });
    return this;
  }
  prefer(label: string, op: ConstraintOp, values?: string[], weight?: number): this {
    const p: Preference = { label, op, ...(values === undefined ? {} : { values }), ...(weight === undefined ? {} : { weight }) };
    (this.prefs ??= []).push(p);
    return this;
  }

  obj(): TaskRequest {
    return {
      id: this.id,
      jobId: this.job,
      group: 'g',
      index: 0,
      demand: space.vector(this.demand),
      constraints: this.cons,
      preferences: this.prefs,
      priority: 100,
    };
  }
}

export const aTask = (id = 't'): TaskBuilder => new TaskBuilder(id);

export interface PartitionSpec {
  readonly syncedAt: number;
  readonly nodes: readonly NodeBuilder[];
}

function snapshot(n: ViewNode): NodeSnapshot {
  return { id: n.id, partition: n.partition, labels: n.labels, capacity: n.capacity, allocated: n.allocated, condition: n.condition, version: n.version };
}

/**
 * A view with one partition per spec, each synced (as a snapshot) at its `syncedAt`. Node
 * builders get their partition set from their position; reserved amounts are booked with assume.
 */
export function viewOf(partitions: readonly PartitionSpec[]): SchedulerView {
  const view = new SchedulerView(space, partitions.length);
  partitions.forEach((spec, p) => {
    const nodes = spec.nodes.map((b) => b.partition(p).obj());
    view.applySync({ partition: p, version: 1, kind: 'snapshot', nodes: nodes.map(snapshot) }, spec.syncedAt);
    for (const n of nodes) if (n.reserved !== undefined) view.assume(n.id, n.reserved);
  });
  return view;
}

/** A placement context for calling a plugin directly (built-ins read nothing of it). */
export function aContext(view: SchedulerView = new SchedulerView(space, 1)): PlacementContext {
  return beginPlacement(view, [], { mode: 'quality-first', scorer: 'binpack', sampleSize: 16, now: 0, rng: createRng(0) });
}
