/**
 * Fluent builders for tests (kube-scheduler's `MakeNode().Capacity(...).Obj()`): nodes and jobs.
 * Pure (core only), so unit tests of any package above core may use them.
 */
import {
  ResourceSpace, validateJobSpec, type Constraint, type JobSpec, type JobSpecInput, type Labels, type NodeRegistration, type ResourceRecord,
} from '@tessera/core';

export class NodeRegBuilder {
  private capacity: ResourceRecord = { cpu_millis: 4000, mem_mib: 8192 };
  private labelSet: Record<string, string> = {};
  constructor(private readonly id: string, private readonly space: ResourceSpace) {}
  cap(r: ResourceRecord): this { this.capacity = r; return this; }
  label(k: string, v: string): this { this.labelSet[k] = v; return this; }
  labels(l: Labels): this { this.labelSet = { ...l }; return this; }
  obj(): NodeRegistration {
    return { id: this.id, labels: { ...this.labelSet }, capacity: this.space.vector(this.capacity) };
  }
}

/** A node registration builder: `aNodeReg('n1', space).cap({ cpu_millis: 1000 }).obj()`. */
export const aNodeReg = (id: string, space: ResourceSpace = ResourceSpace.default): NodeRegBuilder => new NodeRegBuilder(id, space);

/** `count` nodes `${prefix}0…` of one capacity. */
export function nodeRegs(count: number, cap: ResourceRecord, space: ResourceSpace = ResourceSpace.default, prefix = 'n'): NodeRegistration[] {
  return Array.from({ length: count }, (_, i) => aNodeReg(`${prefix}${i}`, space).cap(cap).obj());
}

export class JobBuilder {
  private spec: { -readonly [K in keyof JobSpecInput]: JobSpecInput[K] };
  constructor(id: string) {
    this.spec = { id, tasks: [] };
  }
  queue(q: string): this { this.spec.queue = q; return this; }
  priority(p: number): this { this.spec.priority = p; return this; }
  gang(g = true): this { this.spec.gang = g; return this; }
  preemptible(p = true): this { this.spec.preemptible = p; return this; }
  group(name: string, count: number, resources: ResourceRecord, extra: { durationS?: number; constraints?: Constraint[] } = {}): this {
    this.spec.tasks = [...this.spec.tasks, {
      name, count, resources: { ...resources },
      ...(extra.durationS === undefined ? {} : { duration_s: extra.durationS }),
      ...(extra.constraints === undefined ? {} : { constraints: extra.constraints.map((c) => ({ ...c, values: c.values === undefined ? undefined : [...c.values] })) }),
    }];
    return this;
  }
  /** The raw spec (what a tenant submits). */
  input(): JobSpecInput {
    return structuredClone(this.spec) as JobSpecInput;
  }
  /** The validated spec (defaults filled in); throws on an invalid one. */
  obj(space: ResourceSpace = ResourceSpace.default): JobSpec {
    const r = validateJobSpec(this.spec, space);
    if (!r.ok) throw new RangeError(`${r.error.path}: ${r.error.message}`);
    return r.job;
  }
}

/** A job spec builder: `aJob('j1').queue('prod').group('t', 3, { cpu_millis: 500 }).obj()`. */
export const aJob = (id: string): JobBuilder => new JobBuilder(id);
