/**
 * Snapshots of the whole cell-state model, so a restart (or a standby) loads the latest snapshot
 * and replays only the commit-log tail after it. Pure: `takeSnapshot` copies the model into plain
 * columns (synchronously, so the model may change right after), `encodeSnapshot` /
 * `decodeSnapshot` are msgpack, `restoreModel` rebuilds a model that answers exactly like the
 * one that was saved (same node and partition versions, change logs, booking order, idempotency
 * answers, job table, owners, grace clocks).
 *
 * Format (version 1), one msgpack map:
 * - `format`, `v`, `meta` (the log sequence the model reflects, resources, partitions, the log's
 *   creation time, counts);
 * - `strings`: interned strings, node ids first (node i is `strings[i]`), then job ids, task-id
 *   prefixes (`job/group/`), agents, …; `labels` and `vectors`: interned label sets and resource
 *   vectors (capacities, demands);
 * - columns as byte strings: little-endian float64 (`f64`), int32 (`i32`) and uint8, so 100k
 *   nodes or a million allocations cost a few arrays rather than an object each;
 * - jobs as rows (their validated spec, task states as bytes, task nodes as string refs).
 *
 * A snapshot that does not decode or does not restore consistently is refused as a value (the
 * caller logs it and replays the whole log); nothing here throws on bad input.
 */
import { decode as msgpackDecode } from '@msgpack/msgpack';
import { z } from 'zod';
import {
  ConflictReason, DEFAULT_QUEUE, NODE_CONDITIONS, type Allocation, type CellStateData, type JobSpec, type Labels, type NodeCondition,
  type NodeSnapshot, type ResourceSpace, type ResourceVector, type TxnResult,
} from '@tessera/core';
import { encode } from '@tessera/protocol';
import { createModel, type CellModel, type ModelOptions } from './model.ts';
import { loadTaskLife, saveTaskLife, type SavedTaskLife } from './task-life.ts';

export const SNAPSHOT_FORMAT = 'tessera.cell-state.snapshot';
export const SNAPSHOT_VERSION = 1;

export interface SnapshotMeta {
  /** The commit-log sequence the model reflects: restore, then replay from `seq + 1`. */
  readonly seq: number;
  /** Wall-clock ms when it was taken. */
  readonly at: number;
  readonly writer: string;
  readonly resources: readonly string[];
  readonly partitions: number;
  /** Creation time of the commit-log stream: a snapshot of another (re-created) log is refused. */
  readonly logCreated?: string;
  /** Chain hash of the entry at `seq`: the next entry must link to it (absent in older snapshots). */
  readonly lastHash?: Uint8Array;
  /** The log was hash-chained by then. */
  readonly chained?: boolean;
  readonly nodes: number;
  readonly allocations: number;
  readonly jobs: number;
  readonly outcomes: number;
}

/** The encoded shape (see the file comment). Byte columns are `Uint8Array`. */
export interface ModelSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly v: typeof SNAPSHOT_VERSION;
  readonly meta: SnapshotMeta;
  readonly strings: string[];
  readonly labels: Labels[];
  /** Interned resource vectors (capacities and demands), `dims` float64 each. */
  readonly vectors: Uint8Array;
  readonly logResources: string[] | null;
  readonly cell: {
    readonly nodeLabels: Uint8Array;
    readonly nodeCapacity: Uint8Array;
    readonly nodeAllocated: Uint8Array;
    readonly nodeCondition: Uint8Array;
    readonly nodeVersion: Uint8Array;
    readonly partVersion: Uint8Array;
    readonly partFloor: Uint8Array;
    readonly partLogLength: Uint8Array;
    readonly logVersions: Uint8Array;
    readonly logNodes: Uint8Array;
    readonly allocTask: TaskIds;
    /** String refs; -1: the task id's first segment (`job/group/index`). */
    readonly allocJob: Uint8Array;
    readonly allocNode: Uint8Array;
    /** Refs into `vectors`. */
    readonly allocDemand: Uint8Array;
    readonly allocAt: Uint8Array;
    /** Per allocation, a string ref of its queue path (-1: default); absent when all are default (and in older snapshots). */
    readonly allocQueue?: Uint8Array;
    /** Per allocation, 1 when preemptible; absent when none is. */
    readonly allocPre?: Uint8Array;
    /** [allocation index, device…] of the allocations holding GPU devices; absent when none (older snapshots: best-fit devices on load). */
    readonly allocDevices?: number[][];
  };
  readonly owners: { readonly node: Uint8Array; readonly agent: Uint8Array };
  readonly assignedAt: { readonly task: TaskIds; readonly at: Uint8Array };
  readonly orphanReturns: [string, string[]][];
  /** [id, tenant, submittedAt, placedAt, spec, taskState, taskNode (i32 string refs, -1 none), outcomeState, outcomeReason, attempt, firstFailure] */
  readonly jobs: JobRow[];
  readonly earlyOutcomes: [string, 'unschedulable' | 'failed', string][];
  /** [job, at]: commit time of the last task committed before its job was read (absent in older snapshots). */
  readonly earlyPlacedAt?: [string, number][];
  /** [job, its tasks' restarts/preemptions/last failures] for jobs that have any (absent in older snapshots). */
  readonly taskLife?: [string, SavedTaskLife][];
  readonly outcomes: {
    readonly txn: string[];
    readonly seq: Uint8Array;
    readonly committedLength: Uint8Array;
    readonly committed: TaskIds;
    readonly rejectedLength: Uint8Array;
    /** Triples: task, node, reason. */
    readonly rejected: string[];
    readonly nodesLength: Uint8Array;
    /** The touched nodes' snapshots: node index, labels/capacity (-1: the node's own), state. */
    readonly nodeIndex: Uint8Array;
    readonly nodeLabels: Uint8Array;
    readonly nodeCapacity: Uint8Array;
    readonly nodeAllocated: Uint8Array;
    readonly nodeCondition: Uint8Array;
    readonly nodeVersion: Uint8Array;
  };
}

/** Task ids `${strings[prefix]}${index}` (index -1: `strings[prefix]` is the whole id), int32 columns. */
export interface TaskIds {
  readonly prefix: Uint8Array;
  readonly index: Uint8Array;
}

type JobRow = [string, string, number, number | null, Record<string, unknown> | null, Uint8Array, Uint8Array, 'unschedulable' | 'failed' | null, string | null, number, string | null];

// ---- byte columns ------------------------------------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function f64Bytes(values: ArrayLike<number>): Uint8Array {
  if (LITTLE_ENDIAN && values instanceof Float64Array) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const a = Float64Array.from(values);
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer);
  const out = new Uint8Array(a.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat64(i * 8, a[i], true);
  return out;
}

function i32Bytes(values: ArrayLike<number>): Uint8Array {
  if (LITTLE_ENDIAN && values instanceof Int32Array) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const a = Int32Array.from(values);
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer);
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setInt32(i * 4, a[i], true);
  return out;
}

function readF64(bytes: Uint8Array, what: string): Float64Array {
  if (bytes.length % 8 !== 0) throw new SnapshotError(`${what}: ${bytes.length} bytes is not a float64 column`);
  if (LITTLE_ENDIAN) return new Float64Array(new Uint8Array(bytes).buffer);
  const out = new Float64Array(bytes.length / 8);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(i * 8, true);
  return out;
}

function readI32(bytes: Uint8Array, what: string): Int32Array {
  if (bytes.length % 4 !== 0) throw new SnapshotError(`${what}: ${bytes.length} bytes is not an int32 column`);
  if (LITTLE_ENDIAN) return new Int32Array(new Uint8Array(bytes).buffer);
  const out = new Int32Array(bytes.length / 4);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(i * 4, true);
  return out;
}

/** Interns values by identity first (cheap: snapshots share labels and capacity objects), then by content. */
class Interner<T> {
  readonly values: T[] = [];
  private readonly byRef = new Map<T, number>();
  private readonly byKey = new Map<string, number>();
  constructor(private readonly keyOf: (v: T) => string) {}
  ref(v: T): number {
    let i = this.byRef.get(v);
    if (i !== undefined) return i;
    const k = this.keyOf(v);
    i = this.byKey.get(k);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(v);
      this.byKey.set(k, i);
    }
    this.byRef.set(v, i);
    return i;
  }
}

class StringTable {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();
  ref(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/** `s[from..]` as a canonical non-negative int32 (no sign, no leading zero), or -1. */
function canonicalIndex(s: string, from: number): number {
  const n = s.length - from;
  if (n < 1 || n > 10 || (n > 1 && s.charCodeAt(from) === 48)) return -1;
  let v = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v <= 0x7fffffff ? v : -1;
}

/**
 * Task ids as two int32 columns: `${prefix}${index}` with the prefix (`job/group/`) interned, so
 * a million ids cost 8 bytes each instead of a million strings. An id of another shape is kept
 * whole (index -1).
 */
class TaskIdColumn {
  readonly prefix: Int32Array;
  readonly index: Int32Array;
  private n = 0;
  private lastPrefix = '';
  private lastRef = -1;
  constructor(size: number, private readonly strings: StringTable) {
    this.prefix = new Int32Array(size);
    this.index = new Int32Array(size);
  }
  push(id: string): void {
    const k = id.lastIndexOf('/');
    const idx = k >= 0 ? canonicalIndex(id, k + 1) : -1;
    if (idx < 0) {
      this.prefix[this.n] = this.strings.ref(id);
      this.index[this.n++] = -1;
      return;
    }
    if (k + 1 !== this.lastPrefix.length || !id.startsWith(this.lastPrefix)) {
      this.lastPrefix = id.slice(0, k + 1);
      this.lastRef = this.strings.ref(this.lastPrefix);
    }
    this.prefix[this.n] = this.lastRef;
    this.index[this.n++] = idx;
  }
  wire(): TaskIds {
    return { prefix: i32Bytes(this.prefix.subarray(0, this.n)), index: i32Bytes(this.index.subarray(0, this.n)) };
  }
}

// ---- taking a snapshot -------------------------------------------------------------------------

/** The cell-state's part of the header; the rest is counted from the model. */
export interface SnapshotOrigin {
  readonly at: number;
  readonly writer: string;
  readonly logCreated?: string;
}

/** Items copied between two pauses of `snapshotSteps`. */
const STEP_ITEMS = 50_000;

/**
 * Copies the model into a snapshot (synchronous and detached: the model may change right after).
 * Call it only between batches (never while a decided batch awaits its append).
 */
export function takeSnapshot(model: CellModel, origin: SnapshotOrigin): ModelSnapshot {
  const steps = snapshotSteps(model, origin);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * `takeSnapshot` in steps: the generator pauses (yields) every few tens of thousands of items,
 * so a shell that holds the writer (the model cannot change) can let the event loop breathe —
 * lease renewals, replies to reads — while a large cell is copied. The model must not change
 * until the generator is done.
 */
export function* snapshotSteps(model: CellModel, origin: SnapshotOrigin): Generator<void, ModelSnapshot, void> {
  const dims = model.space.size;
  const cell = model.cell;
  const data: CellStateData = cell.exportState();
  const strings = new StringTable();
  for (const n of data.nodes) strings.ref(n.id);
  const labels = new Interner<Labels>((l) => JSON.stringify(l));
  const caps = new Interner<ResourceVector>((c) => Array.prototype.join.call(c, ','));
  // Consecutive allocations mostly share a demand (one job's tasks): compare with the last first.
  let lastDemand: ResourceVector | undefined, lastDemandRef = -1;
  const demandRef = (d: ResourceVector): number => {
    if (lastDemand !== undefined && d !== lastDemand) {
      let same = true;
      for (let k = 0; k < dims && same; k++) same = Object.is(d[k], lastDemand[k]);
      if (same) return lastDemandRef;
    }
    if (d !== lastDemand) {
      lastDemand = d;
      lastDemandRef = caps.ref(d);
    }
    return lastDemandRef;
  };
  let budget = STEP_ITEMS;
  const tick = (n = 1): boolean => (budget -= n) <= 0 && (budget = STEP_ITEMS) > 0;

  // Nodes.
  const N = data.nodes.length;
  const nodeLabels = new Int32Array(N), nodeCapacity = new Int32Array(N), nodeVersion = new Float64Array(N);
  const nodeCondition = new Uint8Array(N), nodeAllocated = new Float64Array(N * dims);
  for (let i = 0; i < N; i++) {
    const n = data.nodes[i];
    nodeLabels[i] = labels.ref(n.labels);
    nodeCapacity[i] = caps.ref(n.capacity);
    nodeAllocated.set(n.allocated, i * dims);
    nodeCondition[i] = NODE_CONDITIONS.indexOf(n.condition);
    nodeVersion[i] = n.version;
    if (tick(4)) yield;
  }
  let logged = 0;
  for (const p of data.partitionStates) logged += p.logVersions.length;
  const partLogLength = new Int32Array(data.partitionStates.length), logVersions = new Float64Array(logged), logNodes = new Int32Array(logged);
  logged = 0;
  data.partitionStates.forEach((p, i) => {
    partLogLength[i] = p.logVersions.length;
    logVersions.set(p.logVersions, logged);
    logNodes.set(p.logNodes, logged);
    logged += p.logVersions.length;
  });
  yield;

  // Allocations, in booking order.
  const A = data.allocations.length;
  const allocTask = new TaskIdColumn(A, strings);
  const allocJob = new Int32Array(A), allocNode = new Int32Array(A), allocAt = new Float64Array(A), allocDemand = new Int32Array(A);
  let allocQueue: Int32Array | undefined, allocPre: Uint8Array | undefined, allocDevices: number[][] | undefined;
  let lastJob: string | undefined, lastJobRef = -1, lastNode: string | undefined, lastNodeIndex = -1;
  for (let i = 0; i < A; i++) {
    const a = data.allocations[i];
    allocTask.push(a.taskId);
    // -1: the job id is the task id's first segment (as core `taskId` builds them): no lookup.
    const j = a.jobId.length;
    if (a.taskId.length > j && a.taskId.charCodeAt(j) === 47 && a.taskId.startsWith(a.jobId) && !a.jobId.includes('/')) allocJob[i] = -1;
    else {
      if (a.jobId !== lastJob) {
        lastJob = a.jobId;
        lastJobRef = strings.ref(a.jobId);
      }
      allocJob[i] = lastJobRef;
    }
    if (a.nodeId !== lastNode) {
      lastNode = a.nodeId;
      lastNodeIndex = cell.node(a.nodeId)!.index;
    }
    allocNode[i] = lastNodeIndex;
    allocDemand[i] = demandRef(a.demand);
    allocAt[i] = a.committedAt;
    if (a.queue !== undefined && a.queue !== DEFAULT_QUEUE) (allocQueue ??= new Int32Array(A).fill(-1))[i] = strings.ref(a.queue);
    if (a.preemptible === true) (allocPre ??= new Uint8Array(A))[i] = 1;
    if (a.devices !== undefined && a.devices.length > 0) (allocDevices ??= []).push([i, ...a.devices]);
    if (tick()) yield;
  }

  // Owners and grace clocks.
  const ownerNode = new Int32Array(model.owners.size), ownerAgent = new Int32Array(model.owners.size);
  let k = 0;
  // forEach: no [key, value] array per entry (a million entries add up).
  model.owners.forEach((agent, node) => {
    ownerNode[k] = strings.ref(node);
    ownerAgent[k++] = strings.ref(agent);
  });
  const assignedTask = new TaskIdColumn(model.assignedAt.size, strings);
  const assignedAtMs = new Float64Array(model.assignedAt.size);
  k = 0;
  model.assignedAt.forEach((at, task) => {
    assignedTask.push(task);
    assignedAtMs[k++] = at;
  });
  yield;

  // Jobs.
  const jobs: JobRow[] = [];
  for (const j of model.jobs.entries()) {
    const taskNode = new Int32Array(j.taskNode.length);
    for (let i = 0; i < taskNode.length; i++) {
      const n = j.taskNode[i];
      if (n === undefined) taskNode[i] = -1;
      else {
        if (n !== lastNode) {
          lastNode = n;
          lastNodeIndex = cell.node(n)?.index ?? strings.ref(n);
        }
        taskNode[i] = lastNodeIndex;
      }
    }
    jobs.push([
      j.id, j.tenant, j.submittedAt, j.placedAt ?? null, (j.spec as unknown as Record<string, unknown>) ?? null, Uint8Array.from(j.taskState),
      i32Bytes(taskNode), j.outcome?.state ?? null, j.outcome?.reason ?? null, j.attempt, j.firstFailure ?? null,
    ]);
    if (tick(taskNode.length + 1)) yield;
  }

  // The idempotency table, oldest first.
  let T = 0, C = 0, S = 0;
  for (const r of model.committer.rememberedOutcomes()) {
    T++;
    C += r.committed.length;
    S += r.nodes.length;
  }
  const txn: string[] = new Array(T), rejected: string[] = [];
  const oSeq = new Float64Array(T), committedLength = new Int32Array(T), rejectedLength = new Int32Array(T), nodesLength = new Int32Array(T);
  const committed = new TaskIdColumn(C, strings);
  const snNode = new Int32Array(S), snLabels = new Int32Array(S), snCap = new Int32Array(S), snVersion = new Float64Array(S);
  const snCondition = new Uint8Array(S), snAllocated = new Float64Array(S * dims);
  let t = 0, sn = 0;
  for (const r of model.committer.rememberedOutcomes()) {
    txn[t] = r.txnId;
    oSeq[t] = r.seq;
    committedLength[t] = r.committed.length;
    for (const id of r.committed) committed.push(id);
    rejectedLength[t] = r.rejected.length;
    for (const x of r.rejected) rejected.push(x.taskId, x.nodeId, x.reason);
    nodesLength[t++] = r.nodes.length;
    for (const n of r.nodes) {
      const node = cell.node(n.id);
      if (node === undefined) throw new SnapshotError(`outcome ${r.txnId} names node ${n.id}, which the cell does not hold`);
      snNode[sn] = node.index;
      snLabels[sn] = n.labels === node.labels ? -1 : labels.ref(n.labels);
      snCap[sn] = n.capacity === node.capacity ? -1 : caps.ref(n.capacity);
      for (let d = 0; d < dims; d++) snAllocated[sn * dims + d] = n.allocated[d] ?? 0;
      snCondition[sn] = NODE_CONDITIONS.indexOf(n.condition);
      snVersion[sn++] = n.version;
    }
    if (tick(1 + r.committed.length + r.nodes.length)) yield;
  }

  const vectors = new Float64Array(caps.values.length * dims);
  caps.values.forEach((c, i) => vectors.set(c, i * dims));
  return {
    format: SNAPSHOT_FORMAT,
    v: SNAPSHOT_VERSION,
    meta: {
      seq: model.lastSeq, at: origin.at, writer: origin.writer, resources: [...model.space.names], partitions: cell.partitionCount,
      ...(origin.logCreated !== undefined ? { logCreated: origin.logCreated } : {}),
      ...(model.lastHash !== undefined ? { lastHash: model.lastHash, chained: model.chained } : {}),
      nodes: N, allocations: A, jobs: jobs.length, outcomes: T,
    },
    strings: strings.values,
    labels: labels.values,
    vectors: f64Bytes(vectors),
    logResources: model.logResources === undefined ? null : [...model.logResources],
    cell: {
      nodeLabels: i32Bytes(nodeLabels), nodeCapacity: i32Bytes(nodeCapacity), nodeAllocated: f64Bytes(nodeAllocated),
      nodeCondition, nodeVersion: f64Bytes(nodeVersion),
      partVersion: f64Bytes(data.partitionStates.map((p) => p.version)), partFloor: f64Bytes(data.partitionStates.map((p) => p.logFloor)),
      partLogLength: i32Bytes(partLogLength), logVersions: f64Bytes(logVersions), logNodes: i32Bytes(logNodes),
      allocTask: allocTask.wire(), allocJob: i32Bytes(allocJob), allocNode: i32Bytes(allocNode), allocDemand: i32Bytes(allocDemand), allocAt: f64Bytes(allocAt),
      ...(allocQueue === undefined ? {} : { allocQueue: i32Bytes(allocQueue) }), ...(allocPre === undefined ? {} : { allocPre }),
      ...(allocDevices === undefined ? {} : { allocDevices }),
    },
    owners: { node: i32Bytes(ownerNode), agent: i32Bytes(ownerAgent) },
    assignedAt: { task: assignedTask.wire(), at: f64Bytes(assignedAtMs) },
    orphanReturns: [...model.orphanReturns].map(([job, tasks]) => [job, [...tasks]]),
    jobs,
    earlyOutcomes: model.jobs.earlyOutcomeList().map(([job, x]) => [job, x.state, x.reason]),
    earlyPlacedAt: model.jobs.earlyPlacedAtList(),
    taskLife: [...model.jobs.entries()].filter((j) => j.life !== undefined).map((j) => [j.id, saveTaskLife(j.life!)]),
    outcomes: {
      txn, seq: f64Bytes(oSeq), committedLength: i32Bytes(committedLength), committed: committed.wire(),
      rejectedLength: i32Bytes(rejectedLength), rejected, nodesLength: i32Bytes(nodesLength),
      nodeIndex: i32Bytes(snNode), nodeLabels: i32Bytes(snLabels), nodeCapacity: i32Bytes(snCap),
      nodeAllocated: f64Bytes(snAllocated), nodeCondition: snCondition, nodeVersion: f64Bytes(snVersion),
    },
  };
}

export function encodeSnapshot(s: ModelSnapshot): Uint8Array {
  return encode(s);
}

// ---- reading a snapshot ------------------------------------------------------------------------

/** A snapshot that cannot be used (the caller logs it and replays the whole log). */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

export type SnapshotVerdict<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
const strings = z.custom<string[]>(isStringArray, 'must be an array of strings');
const bytes = z.custom<Uint8Array>((x) => x instanceof Uint8Array, 'must be a byte string');
const finite = z.number().finite();
const taskIds = z.object({ prefix: bytes, index: bytes });

const metaSchema = z.object({
  seq: z.number().int().nonnegative(),
  at: finite,
  writer: z.string(),
  resources: z.array(z.string()).min(1),
  partitions: z.number().int().min(1),
  logCreated: z.string().optional(),
  lastHash: bytes.refine((b) => b.length === 32, 'a 32-byte hash').optional(),
  chained: z.boolean().optional(),
  nodes: z.number().int().nonnegative(),
  allocations: z.number().int().nonnegative(),
  jobs: z.number().int().nonnegative(),
  outcomes: z.number().int().nonnegative(),
});

const snapshotSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  v: z.literal(SNAPSHOT_VERSION),
  meta: metaSchema,
  strings,
  labels: z.array(z.record(z.string(), z.string())),
  vectors: bytes,
  logResources: z.array(z.string()).nullable(),
  cell: z.object({
    nodeLabels: bytes, nodeCapacity: bytes, nodeAllocated: bytes, nodeCondition: bytes, nodeVersion: bytes,
    partVersion: bytes, partFloor: bytes, partLogLength: bytes, logVersions: bytes, logNodes: bytes,
    allocTask: taskIds, allocJob: bytes, allocNode: bytes, allocDemand: bytes, allocAt: bytes, allocQueue: bytes.optional(), allocPre: bytes.optional(),
    allocDevices: z.array(z.array(z.number().int().nonnegative()).min(2).max(65)).optional(),
  }),
  owners: z.object({ node: bytes, agent: bytes }),
  assignedAt: z.object({ task: taskIds, at: bytes }),
  orphanReturns: z.array(z.tuple([z.string(), strings])),
  jobs: z.array(z.tuple([
    z.string(), z.string(), finite, finite.nullable(), z.record(z.string(), z.unknown()).nullable(), bytes, bytes,
    z.enum(['unschedulable', 'failed']).nullable(), z.string().nullable(), z.number().int().nonnegative(), z.string().nullable(),
  ])),
  earlyOutcomes: z.array(z.tuple([z.string(), z.enum(['unschedulable', 'failed']), z.string()])),
  earlyPlacedAt: z.array(z.tuple([z.string(), finite])).optional(),
  taskLife: z.array(z.tuple([z.string(), z.tuple([bytes, bytes, z.array(z.tuple([z.number().int(), z.string()])), z.array(z.number().int())])])).optional(),
  outcomes: z.object({
    txn: strings, seq: bytes, committedLength: bytes, committed: taskIds, rejectedLength: bytes, rejected: strings, nodesLength: bytes,
    nodeIndex: bytes, nodeLabels: bytes, nodeCapacity: bytes, nodeAllocated: bytes, nodeCondition: bytes, nodeVersion: bytes,
  }),
});

/** Decodes and checks the shape of a stored snapshot; never throws. */
export function decodeSnapshot(data: Uint8Array): SnapshotVerdict<ModelSnapshot> {
  let raw: unknown;
  try {
    raw = msgpackDecode(data);
  } catch (e) {
    return { ok: false, problem: `not msgpack: ${(e as Error).message}` };
  }
  const p = snapshotSchema.safeParse(raw);
  if (!p.success) {
    const i = p.error.issues[0];
    return { ok: false, problem: `${i.path.join('.') || '(root)'}: ${i.message}` };
  }
  return { ok: true, value: p.data as unknown as ModelSnapshot };
}


const CONFLICT_REASONS = new Set<string>(Object.values(ConflictReason));

/**
 * Rebuilds a model from a decoded snapshot, for a cell-state running with `space` and `opts`.
 * Refused (as a value) when the snapshot was taken with other resources or partitions, or when
 * its columns do not add up; a refused snapshot leaves nothing behind.
 */
export function restoreModel(s: ModelSnapshot, space: ResourceSpace, opts: ModelOptions): SnapshotVerdict<CellModel> {
  try {
    return { ok: true, value: restoreOrThrow(s, space, opts) };
  } catch (e) {
    return { ok: false, problem: e instanceof Error ? `${e.name === 'SnapshotError' ? '' : `${e.name}: `}${e.message}` : String(e) };
  }
}

function restoreOrThrow(s: ModelSnapshot, space: ResourceSpace, opts: ModelOptions): CellModel {
  const fail = (msg: string): never => { throw new SnapshotError(msg); };
  const dims = space.size;
  if (s.meta.resources.join(',') !== space.names.join(',')) fail(`taken with resources ${s.meta.resources.join(',')}, this cell-state runs with ${space.names.join(',')}`);
  if (s.meta.partitions !== opts.partitions) fail(`taken with ${s.meta.partitions} partitions, this cell-state runs with ${opts.partitions}`);
  const str = (i: number, what: string): string => (i >= 0 && i < s.strings.length ? s.strings[i] : fail(`${what}: string ref ${i} out of range`));
  // One array per interned vector, shared by every node and allocation that uses it (never changed in place).
  const flat = readF64(s.vectors, 'vectors');
  const vectors = Array.from({ length: Math.floor(flat.length / Math.max(1, dims)) }, (_, i) => flat.slice(i * dims, (i + 1) * dims));
  const capacity = (i: number, what: string): Float64Array => (i >= 0 && i < vectors.length ? vectors[i] : fail(`${what}: vector ref ${i} out of range`));
  const labelsOf = (i: number, what: string): Labels => (i >= 0 && i < s.labels.length ? s.labels[i] : fail(`${what}: labels ref ${i} out of range`));
  const condition = (c: number, what: string): NodeCondition => NODE_CONDITIONS[c] ?? fail(`${what}: condition ${c}`);
  const need = (n: number, len: number, what: string) => { if (len !== n) fail(`${what}: ${len} values, expected ${n}`); };
  const taskIdsOf = (t: TaskIds, what: string): string[] => {
    const prefix = readI32(t.prefix, `${what}.prefix`), index = readI32(t.index, `${what}.index`);
    need(prefix.length, index.length, `${what}.index`);
    const out: string[] = new Array(prefix.length);
    for (let i = 0; i < prefix.length; i++) {
      const p = prefix[i];
      if (!(p >= 0 && p < s.strings.length)) fail(`${what}: string ref ${p} out of range`);
      out[i] = index[i] < 0 ? s.strings[p] : s.strings[p] + index[i];
    }
    return out;
  };

  // The cell.
  const c = s.cell;
  const N = c.nodeCondition.length;
  if (N !== s.meta.nodes) fail(`${N} nodes, the header says ${s.meta.nodes}`);
  const nLabels = readI32(c.nodeLabels, 'nodeLabels'), nCap = readI32(c.nodeCapacity, 'nodeCapacity');
  const nAlloc = readF64(c.nodeAllocated, 'nodeAllocated'), nVersion = readF64(c.nodeVersion, 'nodeVersion');
  need(N, nLabels.length, 'nodeLabels'); need(N, nCap.length, 'nodeCapacity'); need(N * dims, nAlloc.length, 'nodeAllocated'); need(N, nVersion.length, 'nodeVersion');
  if (s.strings.length < N) fail('fewer strings than nodes');
  const nodes = Array.from({ length: N }, (_, i) => ({
    id: s.strings[i], labels: labelsOf(nLabels[i], `node ${i}`), capacity: capacity(nCap[i], `node ${i}`),
    allocated: nAlloc.slice(i * dims, (i + 1) * dims), condition: condition(c.nodeCondition[i], `node ${i}`), version: nVersion[i],
  }));
  const pVersion = readF64(c.partVersion, 'partVersion'), pFloor = readF64(c.partFloor, 'partFloor'), pLen = readI32(c.partLogLength, 'partLogLength');
  const logVersions = readF64(c.logVersions, 'logVersions'), logNodes = readI32(c.logNodes, 'logNodes');
  const P = opts.partitions;
  need(P, pVersion.length, 'partVersion'); need(P, pFloor.length, 'partFloor'); need(P, pLen.length, 'partLogLength');
  need(logVersions.length, logNodes.length, 'logNodes');
  let off = 0;
  const partitionStates = Array.from({ length: P }, (_, p) => {
    const len = pLen[p];
    if (len < 0 || off + len > logVersions.length) fail(`partition ${p}: change log beyond the columns`);
    const out = { version: pVersion[p], logFloor: pFloor[p], logVersions: Array.from(logVersions.subarray(off, off + len)), logNodes: Array.from(logNodes.subarray(off, off + len)) };
    off += len;
    return out;
  });
  need(logVersions.length, off, 'change-log columns');
  const allocTask = taskIdsOf(c.allocTask, 'allocTask');
  const A = allocTask.length;
  if (A !== s.meta.allocations) fail(`${A} allocations, the header says ${s.meta.allocations}`);
  const aJob = readI32(c.allocJob, 'allocJob'), aNode = readI32(c.allocNode, 'allocNode'), aDemand = readI32(c.allocDemand, 'allocDemand'), aAt = readF64(c.allocAt, 'allocAt');
  need(A, aJob.length, 'allocJob'); need(A, aNode.length, 'allocNode'); need(A, aDemand.length, 'allocDemand'); need(A, aAt.length, 'allocAt');
  const aQueue = c.allocQueue === undefined ? undefined : readI32(c.allocQueue, 'allocQueue');
  if (aQueue !== undefined) need(A, aQueue.length, 'allocQueue');
  if (c.allocPre !== undefined) need(A, c.allocPre.length, 'allocPre');
  const devicesOf = new Map<number, number[]>();
  for (const d of c.allocDevices ?? []) {
    if (!(d[0] < A)) fail(`allocDevices: allocation ${d[0]} out of range`);
    devicesOf.set(d[0], d.slice(1));
  }
  const allocations: Allocation[] = new Array(A);
  for (let i = 0; i < A; i++) {
    const node = aNode[i];
    if (!(node >= 0 && node < N)) fail(`allocation ${i}: node ref ${node} out of range`);
    const task = allocTask[i];
    const a: Allocation = { taskId: task, jobId: aJob[i] === -1 ? task.slice(0, task.indexOf('/')) : str(aJob[i], `allocation ${i}`), nodeId: s.strings[node], demand: capacity(aDemand[i], `allocation ${i}`), committedAt: aAt[i] };
    const q = aQueue === undefined || aQueue[i] === -1 ? undefined : str(aQueue[i], `allocation ${i} queue`);
    const pre = c.allocPre !== undefined && c.allocPre[i] === 1;
    const withQueue = q === undefined && !pre ? a : { ...a, queue: q, preemptible: pre || undefined };
    const devices = devicesOf.get(i);
    allocations[i] = devices === undefined ? withQueue : { ...withQueue, devices };
  }
  const model = createModel(space, opts);
  model.cell.importState({ partitions: P, dims, nodes, partitionStates, allocations });

  // The idempotency table, oldest first.
  const o = s.outcomes;
  const T = o.txn.length;
  if (T !== s.meta.outcomes) fail(`${T} outcomes, the header says ${s.meta.outcomes}`);
  const oSeq = readF64(o.seq, 'outcomes.seq'), oCl = readI32(o.committedLength, 'outcomes.committedLength');
  const oRl = readI32(o.rejectedLength, 'outcomes.rejectedLength'), oNl = readI32(o.nodesLength, 'outcomes.nodesLength');
  need(T, oSeq.length, 'outcomes.seq'); need(T, oCl.length, 'outcomes.committedLength'); need(T, oRl.length, 'outcomes.rejectedLength'); need(T, oNl.length, 'outcomes.nodesLength');
  const snIndex = readI32(o.nodeIndex, 'outcomes.nodeIndex');
  const snLabels = readI32(o.nodeLabels, 'outcomes.nodeLabels'), snCap = readI32(o.nodeCapacity, 'outcomes.nodeCapacity');
  const snAlloc = readF64(o.nodeAllocated, 'outcomes.nodeAllocated'), snVersion = readF64(o.nodeVersion, 'outcomes.nodeVersion');
  const S = snIndex.length;
  need(S, snLabels.length, 'outcomes.nodeLabels'); need(S, snCap.length, 'outcomes.nodeCapacity');
  need(S * dims, snAlloc.length, 'outcomes.nodeAllocated'); need(S, o.nodeCondition.length, 'outcomes.nodeCondition'); need(S, snVersion.length, 'outcomes.nodeVersion');
  const committedIds = taskIdsOf(o.committed, 'outcomes.committed');
  let ci = 0, ri = 0, ni = 0;
  for (let t = 0; t < T; t++) {
    if (oCl[t] < 0 || ci + oCl[t] > committedIds.length) fail(`outcome ${t}: committed beyond the column`);
    const committed = committedIds.slice(ci, (ci += oCl[t]));
    if (oRl[t] < 0 || ri + 3 * oRl[t] > o.rejected.length) fail(`outcome ${t}: rejected beyond the column`);
    const rejected = [];
    for (let k = 0; k < oRl[t]; k++, ri += 3) {
      const reason = o.rejected[ri + 2];
      if (!CONFLICT_REASONS.has(reason)) fail(`outcome ${t}: unknown reason ${reason}`);
      rejected.push({ taskId: o.rejected[ri], nodeId: o.rejected[ri + 1], reason: reason as ConflictReason });
    }
    if (oNl[t] < 0 || ni + oNl[t] > S) fail(`outcome ${t}: nodes beyond the column`);
    const snaps: NodeSnapshot[] = [];
    for (let k = 0; k < oNl[t]; k++, ni++) {
      const node = model.cell.nodes[snIndex[ni]] ?? fail(`outcome ${t}: node ${snIndex[ni]} out of range`);
      snaps.push({
        id: node.id, partition: node.partition,
        labels: snLabels[ni] === -1 ? node.labels : labelsOf(snLabels[ni], `outcome ${t}`),
        capacity: snCap[ni] === -1 ? node.capacity : capacity(snCap[ni], `outcome ${t}`),
        allocated: snAlloc.subarray(ni * dims, (ni + 1) * dims), condition: condition(o.nodeCondition[ni], `outcome ${t}`), version: snVersion[ni],
      });
    }
    const r: TxnResult = { txnId: o.txn[t], committed, rejected, nodes: snaps, seq: oSeq[t] };
    model.committer.remember(r);
  }
  need(committedIds.length, ci, 'outcomes.committed'); need(o.rejected.length, ri, 'outcomes.rejected'); need(S, ni, 'outcome nodes');

  // The job table.
  if (s.jobs.length !== s.meta.jobs) fail(`${s.jobs.length} jobs, the header says ${s.meta.jobs}`);
  for (const [id, tenant, submittedAt, placedAt, spec, taskState, taskNodeBytes, outcomeState, outcomeReason, attempt, firstFailure] of s.jobs) {
    const refs = readI32(taskNodeBytes, `job ${id} task nodes`);
    const taskNode = Array.from(refs, (r) => (r === -1 ? undefined : str(r, `job ${id}`)));
    if (spec !== null && !Array.isArray((spec as { tasks?: unknown }).tasks)) fail(`job ${id}: spec without tasks`);
    model.jobs.restoreJob({
      id, tenant, submittedAt, taskState, taskNode, attempt,
      ...(placedAt !== null ? { placedAt } : {}),
      ...(spec !== null ? { spec: spec as unknown as JobSpec } : {}),
      ...(outcomeState !== null ? { outcome: { state: outcomeState, reason: outcomeReason ?? '' } } : {}),
      ...(firstFailure !== null ? { firstFailure } : {}),
    });
  }
  for (const [job, state, reason] of s.earlyOutcomes) model.jobs.restoreEarlyOutcome(job, { state, reason });
  for (const [job, at] of s.earlyPlacedAt ?? []) model.jobs.restoreEarlyPlacedAt(job, at);
  for (const [id, saved] of s.taskLife ?? []) {
    const job = model.jobs.get(id) ?? fail(`task counters of unknown job ${id}`);
    try {
      job.life = loadTaskLife(saved, job.taskState.length, `job ${id}`);
    } catch (e) {
      fail((e as Error).message);
    }
  }

  // Owners, grace clocks, orphan hand-backs, position.
  const owNode = readI32(s.owners.node, 'owners.node'), owAgent = readI32(s.owners.agent, 'owners.agent');
  need(owNode.length, owAgent.length, 'owners.agent');
  for (let i = 0; i < owNode.length; i++) model.owners.set(str(owNode[i], 'owner'), str(owAgent[i], 'owner'));
  const at = readF64(s.assignedAt.at, 'assignedAt.at');
  const assignedTask = taskIdsOf(s.assignedAt.task, 'assignedAt.task');
  need(assignedTask.length, at.length, 'assignedAt.at');
  for (let i = 0; i < at.length; i++) model.assignedAt.set(assignedTask[i], at[i]);
  for (const [job, tasks] of s.orphanReturns) model.orphanReturns.set(job, [...tasks]);
  if (s.logResources !== null) model.logResources = s.logResources;
  model.lastSeq = s.meta.seq;
  model.lastHash = s.meta.lastHash;
  model.chained = s.meta.chained ?? false;
  return model;
}
