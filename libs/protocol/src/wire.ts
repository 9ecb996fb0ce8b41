/**
 * Conversions between the core's in-memory forms (Float64Array vectors) and wire forms
 * (number arrays). Both sides must use the same resource names, checked by `sameResources`.
 */
import type { Claim, Constraint, ConflictReason, NodeSnapshot, PartitionSync, PlacementRules, ResourceSpace, RunningTask, Transaction, TxnResult } from '@tessera/core';
import type { WireClaim, WireNode, WirePartitionSync, WireTransaction, WireTxnResult } from './messages.ts';

export function sameResources(space: ResourceSpace, names: readonly string[]): boolean {
  if (names.length !== space.names.length) return false;
  for (let i = 0; i < names.length; i++) if (names[i] !== space.names[i]) return false;
  return true;
}

/** A vector of exactly the space's dimension (short arrays are zero-padded, long ones refused). */
export function toVector(space: ResourceSpace, values: readonly number[]): Float64Array | undefined {
  if (values.length > space.size) return undefined;
  const v = space.zero();
  for (let i = 0; i < values.length; i++) v[i] = values[i];
  return v;
}

function fromVector(v: Float64Array): number[] {
  return Array.from(v);
}

export function nodeToWire(n: NodeSnapshot): WireNode {
  const w: WireNode = {
    id: n.id, partition: n.partition, labels: n.labels as Record<string, string>,
    capacity: fromVector(n.capacity), allocated: fromVector(n.allocated), condition: n.condition, version: n.version,
  };
  if (n.tasks !== undefined) w.tasks = n.tasks.map((t) => ({ ...t, demand: fromVector(t.demand) }));
  if (n.gpus !== undefined) w.gpus = fromVector(n.gpus);
  return w;
}

export function nodeFromWire(space: ResourceSpace, w: WireNode): NodeSnapshot | undefined {
  const capacity = toVector(space, w.capacity);
  const allocated = toVector(space, w.allocated);
  if (capacity === undefined || allocated === undefined) return undefined;
  const n: NodeSnapshot = { id: w.id, partition: w.partition, labels: w.labels, capacity, allocated, condition: w.condition, version: w.version };
  if (w.gpus !== undefined) n.gpus = Float64Array.from(w.gpus);
  if (w.tasks !== undefined) {
    const tasks: RunningTask[] = [];
    for (const t of w.tasks) {
      const demand = toVector(space, t.demand);
      if (demand === undefined) return undefined;
      tasks.push({ ...t, demand });
    }
    n.tasks = tasks;
  }
  return n;
}

export function syncToWire(s: PartitionSync): WirePartitionSync {
  return { partition: s.partition, version: s.version, kind: s.kind, nodes: s.nodes.map(nodeToWire) };
}

export function syncFromWire(space: ResourceSpace, w: WirePartitionSync): PartitionSync | undefined {
  const nodes: NodeSnapshot[] = [];
  for (const n of w.nodes) {
    const s = nodeFromWire(space, n);
    if (s === undefined) return undefined;
    nodes.push(s);
  }
  return { partition: w.partition, version: w.version, kind: w.kind, nodes };
}

export function claimToWire(c: Claim): WireClaim {
  const w: WireClaim = { taskId: c.taskId, jobId: c.jobId, nodeId: c.nodeId, demand: fromVector(c.demand), seenVersion: c.seenVersion };
  if (c.devices !== undefined) w.devices = [...c.devices];
  if (c.constraints !== undefined && c.constraints.length > 0) w.constraints = c.constraints.map((k) => ({ ...k, values: k.values ? [...k.values] : undefined }));
  if (c.queue !== undefined) w.queue = c.queue;
  if (c.preemptible === true) w.preemptible = true;
  if (c.rules !== undefined) w.rules = c.rules as WireClaim['rules'];
  return w;
}

/** Wire claims with a bad demand vector become claims the validator rejects as `invalid`. */
export function claimFromWire(space: ResourceSpace, w: WireClaim): Claim {
  const demand = toVector(space, w.demand) ?? new Float64Array(0);
  const c: Claim = { taskId: w.taskId, jobId: w.jobId, nodeId: w.nodeId, demand, seenVersion: w.seenVersion, constraints: w.constraints as readonly Constraint[] | undefined };
  if (w.queue === undefined && w.preemptible === undefined && w.devices === undefined && w.rules === undefined) return c;
  return {
    ...c, ...(w.queue === undefined ? {} : { queue: w.queue }), ...(w.preemptible === true ? { preemptible: true } : {}), ...(w.devices === undefined ? {} : { devices: w.devices }),
    ...(w.rules === undefined ? {} : { rules: rulesFromWire(w.rules) }),
  };
}

/** Only the declared fields (a hostile claim's extra keys do not travel on into the committer). */
function rulesFromWire(w: NonNullable<WireClaim['rules']>): PlacementRules {
  return {
    ...(w.spread === undefined ? {} : { spread: { label: w.spread.label, maxSkew: w.spread.maxSkew } }),
    ...(w.distinct === undefined ? {} : { distinct: { label: w.distinct.label, limit: w.distinct.limit } }),
    ...(w.affinity === undefined ? {} : { affinity: w.affinity.map((r) => ({ job: r.job, label: r.label })) }),
    ...(w.antiAffinity === undefined ? {} : { antiAffinity: w.antiAffinity.map((r) => ({ job: r.job, label: r.label })) }),
  };
}

export function txnToWire(t: Transaction): WireTransaction {
  const w: WireTransaction = { id: t.id, schedulerId: t.schedulerId, kind: t.kind, claims: t.claims.map(claimToWire) };
  if (t.evictions !== undefined && t.evictions.length > 0) w.evictions = t.evictions.map((e) => ({ taskId: e.taskId, nodeId: e.nodeId }));
  return w;
}

export function txnFromWire(space: ResourceSpace, w: WireTransaction): Transaction {
  const t: Transaction = { id: w.id, schedulerId: w.schedulerId, kind: w.kind, claims: w.claims.map((c) => claimFromWire(space, c)) };
  return w.evictions !== undefined && w.evictions.length > 0 ? { ...t, evictions: w.evictions.map((e) => ({ taskId: e.taskId, nodeId: e.nodeId })) } : t;
}

export function txnResultToWire(r: TxnResult): WireTxnResult {
  const w: WireTxnResult = {
    txnId: r.txnId, committed: [...r.committed],
    rejected: r.rejected.map((x) => ({ taskId: x.taskId, nodeId: x.nodeId, reason: x.reason })),
    nodes: r.nodes.map(nodeToWire), seq: r.seq,
  };
  if (r.replayed) w.replayed = true;
  if (r.evicted !== undefined && r.evicted.length > 0) w.evicted = [...r.evicted];
  return w;
}

export function txnResultFromWire(space: ResourceSpace, w: WireTxnResult): TxnResult {
  const nodes: NodeSnapshot[] = [];
  for (const n of w.nodes) {
    const s = nodeFromWire(space, n);
    if (s !== undefined) nodes.push(s);
  }
  return {
    txnId: w.txnId, committed: w.committed,
    rejected: w.rejected.map((x) => ({ taskId: x.taskId, nodeId: x.nodeId, reason: x.reason as ConflictReason })),
    nodes, seq: w.seq, replayed: w.replayed,
    ...(w.evicted !== undefined && w.evicted.length > 0 ? { evicted: w.evicted } : {}),
  };
}
