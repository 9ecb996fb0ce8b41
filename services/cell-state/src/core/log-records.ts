/**
 * The commit-log record format (version 2: hash-chained entries, see LOG_FORMAT_VERSION). The commit log is the truth: every change of
 * authoritative state is one record, and replaying the records in order rebuilds the same state
 * with the same node versions.
 *
 * One JetStream message = one {@link LogEntry}: a header (`v`, `at`, `writer`) and the records
 * appended together, applied in order. The live writer puts a batch's `commit` record first (its
 * claims are applied when the batch is decided), then the other records of the batch.
 *
 * Encoding is msgpack (never JSON: the commit path is hot). A commit record stores its committed
 * claims as columns (ids as string arrays, demands as one little-endian Float64 byte string),
 * so a batch of k claims costs three array pushes and k·dims float writes, not k objects.
 *
 * Decoding validates with zod and never throws: a bad entry or record is reported and skipped.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { decode as msgpackDecode } from '@msgpack/msgpack';
import { ConflictReason, DEFAULT_QUEUE, type ResourceVector } from '@tessera/core';
import { encode, TASK_OUTCOMES, JOB_OUTCOMES } from '@tessera/protocol';

/**
 * Version 2 entries are hash-chained (tamper-evident, DESIGN §13): the message is
 * `{v: 2, prev, body, sum}` with `body` the msgpack of `{at, writer, records}`, `prev` the chain
 * hash of the previous entry (32 zero bytes before the first) and `sum = SHA-256(prev ‖ body)`,
 * which is also this entry's chain hash. A changed byte anywhere breaks `sum` (or the msgpack
 * framing); a removed, reordered or inserted entry breaks the next one's `prev`. Version 1
 * entries (no hashes) still load; their chain hash is SHA-256 of the stored bytes, so a log
 * continued by a newer writer chains on from them.
 */
export const LOG_FORMAT_VERSION = 2;
/** Entries of this version and later carry the chain. */
export const CHAINED_LOG_VERSION = 2;
export const GENESIS_HASH: Uint8Array = new Uint8Array(32);

const id = z.string().min(1).max(400);
const agent = z.string().min(1).max(64);
const labels = z.record(z.string().max(200), z.string().max(400));
const amount = z.number().finite().nonnegative();
const conflictReasons = Object.values(ConflictReason) as [ConflictReason, ...ConflictReason[]];

/** First record of a cell's log: fixes the resource names (a restart with others is refused). */
export const cellRecord = z.object({ t: z.literal('cell'), resources: z.array(z.string().min(1).max(64)).min(1).max(64) });

/** Nodes registered (or re-registered) by an agent, which becomes their owner. */
export const registerRecord = z.object({
  t: z.literal('register'),
  agent,
  nodes: z.array(z.object({ id, labels, capacity: z.array(amount).max(64) })).max(100_000),
});

/** Nodes not heard from in time: marked lost, their tasks released and handed back. */
export const lostRecord = z.object({ t: z.literal('lost'), nodes: z.array(id).max(100_000) });

/** Tasks an agent reported ended; each is released if it still sits on that node. */
export const endedRecord = z.object({
  t: z.literal('ended'),
  agent,
  tasks: z.array(z.object({ taskId: id, nodeId: id, outcome: z.enum(TASK_OUTCOMES), reason: z.string().max(2000).optional() })).max(100_000),
});

/** Tasks an agent reported running for the first time. */
export const runningRecord = z.object({
  t: z.literal('running'),
  agent,
  tasks: z.array(z.object({ taskId: id, nodeId: id })).max(100_000),
});

/** A job read from the jobs stream: its validated spec, or the validation error. */
export const jobRecord = z.object({
  t: z.literal('job'),
  id,
  tenant: z.string().max(200),
  submittedAt: z.number().finite(),
  /** The validated spec (defaults filled in); absent when invalid. */
  spec: z.record(z.string(), z.unknown()).optional(),
  error: z.string().max(4000).optional(),
});

/** A scheduler's verdict on a job (unschedulable / failed with a reason). */
export const outcomeRecord = z.object({
  t: z.literal('outcome'),
  jobId: id,
  scheduler: z.string().min(1).max(200),
  state: z.enum(JOB_OUTCOMES),
  reason: z.string().max(4000),
});

/**
 * A cell-state took the lead (high availability): the first entry a new leader appends, fenced
 * on the log's end. Once it is in, a deposed leader's appends fail on the fence. Changes no state.
 */
export const leaderRecord = z.object({
  t: z.literal('leader'),
  /** Writer id of the new leader. */
  id: z.string().min(1).max(200),
  /** Lease term (increases at every acquisition). */
  term: z.number().int().nonnegative(),
});

/**
 * An operator's node lifecycle change (DESIGN §12): cordon, uncordon, drain (with the time its
 * tasks must be gone by), and `drained`, written by the leader when a draining node is empty or
 * its deadline passed: what is still on it is released and handed back, and it ends `drained`.
 */
export const lifecycleRecord = z.object({
  t: z.literal('lifecycle'),
  op: z.enum(['cordon', 'uncordon', 'drain', 'drained']),
  nodes: z.array(id).max(100_000),
  /** drain: wall-clock ms by which its tasks are handed back. */
  deadline: z.number().finite().optional(),
});

/** One decided transaction of a commit record: `n` committed claims taken in order from the columns. */
const commitTxn = z.object({
  id,
  n: z.number().int().nonnegative(),
  /** Rejected claims: [taskId, nodeId, reason]. */
  rej: z.array(z.tuple([z.string().max(400), z.string().max(400), z.enum(conflictReasons)])).max(100_000).optional(),
  /** Tasks the transaction evicted, released (in this order) before its claims are booked; absent in older logs. */
  ev: z.array(id).max(100_000).optional(),
});

/** A group-committed batch: every decided transaction (for idempotency) and its committed claims. */
export const commitRecord = z
  .object({
    t: z.literal('commit'),
    txns: z.array(commitTxn).max(100_000),
    task: z.array(id).max(1_000_000),
    job: z.array(id).max(1_000_000),
    node: z.array(id).max(1_000_000),
    /** Demands: task.length × dims little-endian float64. */
    demand: z.custom<Uint8Array>((x) => x instanceof Uint8Array, 'must be a byte string'),
    /** Per claim, its leaf queue path ('' = default); absent when every claim is in `default` (and in older logs). */
    queue: z.array(z.string().max(600)).max(1_000_000).optional(),
    /** Indices (into the columns) of the preemptible claims; absent when none. */
    pre: z.array(z.number().int().nonnegative()).max(1_000_000).optional(),
    /**
     * GPU devices of the claims that hold some: [column index, device…] each (DESIGN §12); absent
     * when none (and in logs written before devices: replay books best-fit devices for those).
     */
    dev: z.array(z.array(z.number().int().nonnegative()).min(2).max(65)).max(1_000_000).optional(),
  })
  .superRefine((r, ctx) => {
    const k = r.task.length;
    if (r.job.length !== k || r.node.length !== k || (r.queue !== undefined && r.queue.length !== k)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'claim columns differ in length' });
    if (r.pre !== undefined && r.pre.some((i) => i >= k)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a preemptible index is out of the columns' });
    if (r.dev !== undefined && r.dev.some((d) => d[0] >= k)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a device entry is out of the columns' });
    let n = 0;
    for (const t of r.txns) n += t.n;
    if (n !== k) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `txns commit ${n} claims, the columns hold ${k}` });
  });

export type CellRecord = z.output<typeof cellRecord>;
export type RegisterRecord = z.output<typeof registerRecord>;
export type LostRecord = z.output<typeof lostRecord>;
export type EndedRecord = z.output<typeof endedRecord>;
export type RunningRecord = z.output<typeof runningRecord>;
export type JobRecord = z.output<typeof jobRecord>;
export type OutcomeRecord = z.output<typeof outcomeRecord>;
export type CommitRecord = z.output<typeof commitRecord>;
export type LeaderRecord = z.output<typeof leaderRecord>;
export type LifecycleRecord = z.output<typeof lifecycleRecord>;
export type LogRecord = CellRecord | RegisterRecord | LostRecord | EndedRecord | RunningRecord | JobRecord | OutcomeRecord | CommitRecord | LeaderRecord | LifecycleRecord;
export type LogRecordKind = LogRecord['t'];

const recordSchemas: Record<LogRecordKind, z.ZodTypeAny> = {
  cell: cellRecord,
  register: registerRecord,
  lost: lostRecord,
  ended: endedRecord,
  running: runningRecord,
  job: jobRecord,
  outcome: outcomeRecord,
  commit: commitRecord,
  leader: leaderRecord,
  lifecycle: lifecycleRecord,
};

export interface LogEntry {
  /** 1: an old, unchained entry (decoded only); the writer writes LOG_FORMAT_VERSION. */
  readonly v: 1 | typeof LOG_FORMAT_VERSION;
  /** Wall-clock ms when the writer decided the entry; replay uses it instead of the clock. */
  readonly at: number;
  /** Instance id of the writer. */
  readonly writer: string;
  readonly records: readonly LogRecord[];
}

const entryBody = z.object({
  at: z.number().finite(),
  writer: z.string().max(200),
  records: z.array(z.unknown()).max(1_000_000),
});
const v1Envelope = entryBody.extend({ v: z.literal(1) });
const hash32 = z.instanceof(Uint8Array).refine((b) => b.length === 32, 'a 32-byte hash');
const chainedEnvelope = z.object({ v: z.literal(CHAINED_LOG_VERSION), prev: hash32, body: z.instanceof(Uint8Array), sum: hash32 });

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function hashHex(h: Uint8Array): string {
  return Buffer.from(h).toString('hex').slice(0, 16);
}

export interface SealedEntry {
  readonly bytes: Uint8Array;
  /** This entry's chain hash (the next entry's `prev`). */
  readonly hash: Uint8Array;
}

type EntryContent = Pick<LogEntry, 'at' | 'writer' | 'records'> & { readonly v?: LogEntry['v'] };

/** Seals an entry chained after the entry whose chain hash is `prev` (the writer's form). */
export function sealEntry(entry: EntryContent, prev: Uint8Array): SealedEntry {
  const body = encode({ at: entry.at, writer: entry.writer, records: entry.records });
  const sum = sha256(prev, body);
  return { bytes: encode({ v: LOG_FORMAT_VERSION, prev, body, sum }), hash: sum };
}

/** The stored bytes of an entry chained after `prev` (default: the first entry of a log). */
export function encodeEntry(entry: EntryContent, prev: Uint8Array = GENESIS_HASH): Uint8Array {
  return sealEntry(entry, prev).bytes;
}

/** Why (part of) a stored entry could not be used; replay logs these and carries on. */
export interface LogDecodeProblem {
  /** Index of the bad record, or -1 for the whole entry. */
  readonly record: number;
  readonly message: string;
}

export type DecodedEntry =
  | {
    readonly ok: true; readonly entry: LogEntry; readonly problems: readonly LogDecodeProblem[];
    /** The entry's chain hash; `prev` is absent on a version 1 entry. */
    readonly hash: Uint8Array; readonly prev?: Uint8Array;
  }
  /** `tampered`: the bytes are not what the writer sealed (a hash does not match). */
  | { readonly ok: false; readonly problem: LogDecodeProblem; readonly tampered?: boolean };

function issueText(e: z.ZodError): string {
  const i = e.issues[0];
  return `${i.path.join('.') || '(root)'}: ${i.message}`;
}

function msgpackOf(bytes: Uint8Array): { ok: true; raw: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, raw: msgpackDecode(bytes) };
  } catch (e) {
    return { ok: false, message: `not msgpack: ${(e as Error).message}` };
  }
}

/**
 * Decodes one stored entry (either version); bad records are dropped and reported, a bad envelope
 * drops the entry. A chained entry whose `sum` does not match is refused whole (`tampered`).
 * The chain itself (`prev` against the previous entry) is the caller's check.
 */
export function decodeEntry(bytes: Uint8Array): DecodedEntry {
  const outer = msgpackOf(bytes);
  if (!outer.ok) return { ok: false, problem: { record: -1, message: outer.message } };
  let raw = outer.raw;
  let hash: Uint8Array;
  let prev: Uint8Array | undefined;
  let v: 1 | typeof LOG_FORMAT_VERSION;
  if ((raw as { v?: unknown } | null)?.v === CHAINED_LOG_VERSION) {
    const c = chainedEnvelope.safeParse(raw);
    if (!c.success) return { ok: false, problem: { record: -1, message: issueText(c.error) }, tampered: true };
    if (!sameHash(sha256(c.data.prev, c.data.body), c.data.sum)) {
      return { ok: false, problem: { record: -1, message: 'its SHA-256 does not match its contents' }, tampered: true };
    }
    const inner = msgpackOf(c.data.body);
    if (!inner.ok) return { ok: false, problem: { record: -1, message: inner.message }, tampered: true };
    raw = inner.raw;
    hash = c.data.sum;
    prev = c.data.prev;
    v = LOG_FORMAT_VERSION;
  } else {
    const old = v1Envelope.safeParse(raw);
    if (!old.success) return { ok: false, problem: { record: -1, message: issueText(old.error) } };
    hash = sha256(bytes);
    v = 1;
  }
  const env = entryBody.safeParse(raw);
  if (!env.success) return { ok: false, problem: { record: -1, message: issueText(env.error) } };
  const records: LogRecord[] = [];
  const problems: LogDecodeProblem[] = [];
  env.data.records.forEach((r, i) => {
    const t = (r as { t?: unknown } | null)?.t;
    const schema = typeof t === 'string' && Object.hasOwn(recordSchemas, t) ? recordSchemas[t as LogRecordKind] : undefined;
    if (schema === undefined) {
      problems.push({ record: i, message: `unknown record type ${JSON.stringify(t)}` });
      return;
    }
    const p = schema.safeParse(r);
    if (p.success) records.push(p.data as LogRecord);
    else problems.push({ record: i, message: `${String(t)}: ${issueText(p.error)}` });
  });
  return { ok: true, entry: { v, at: env.data.at, writer: env.data.writer, records }, problems, hash, ...(prev !== undefined ? { prev } : {}) };
}

// ---- claim columns -----------------------------------------------------------------------------

/** Builds a commit record's claim columns without an object per claim. */
export class ClaimColumns {
  readonly task: string[] = [];
  readonly job: string[] = [];
  readonly node: string[] = [];
  /** Built on the first claim outside `default` (earlier claims filled in with ''). */
  queue: string[] | undefined;
  pre: number[] | undefined;
  /** [column index, device…] of the claims holding GPU devices; built on the first one. */
  dev: number[][] | undefined;
  private bytes: Uint8Array;
  private view: DataView;
  private used = 0;

  constructor(private readonly dims: number, expectedClaims = 64) {
    this.bytes = new Uint8Array(Math.max(1, expectedClaims) * dims * 8);
    this.view = new DataView(this.bytes.buffer);
  }

  get length(): number {
    return this.task.length;
  }

  push(taskId: string, jobId: string, nodeId: string, demand: ResourceVector, queue?: string, preemptible?: boolean): void {
    if (queue !== undefined && queue !== DEFAULT_QUEUE && this.queue === undefined) this.queue = new Array<string>(this.task.length).fill('');
    if (this.queue !== undefined) this.queue.push(queue === undefined || queue === DEFAULT_QUEUE ? '' : queue);
    if (preemptible === true) (this.pre ??= []).push(this.task.length);
    const need = this.used + this.dims * 8;
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    for (let i = 0; i < this.dims; i++) this.view.setFloat64(this.used + i * 8, demand[i] ?? 0, true);
    this.used = need;
    this.task.push(taskId);
    this.job.push(jobId);
    this.node.push(nodeId);
  }

  /** The GPU devices of the claim pushed last. */
  devices(devices: readonly number[]): void {
    if (devices.length > 0) (this.dev ??= []).push([this.task.length - 1, ...devices]);
  }

  demandBytes(): Uint8Array {
    return this.bytes.subarray(0, this.used);
  }
}

/**
 * The demand vectors of a commit record, one Float64Array per claim (views into one buffer), or
 * undefined when the byte string does not hold `claims × dims` floats.
 */
export function demandsOf(bytes: Uint8Array, claims: number, dims: number): Float64Array[] | undefined {
  if (bytes.length !== claims * dims * 8) return undefined;
  const all = new Float64Array(claims * dims);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < all.length; i++) all[i] = view.getFloat64(i * 8, true);
  const out = new Array<Float64Array>(claims);
  for (let c = 0; c < claims; c++) out[c] = all.subarray(c * dims, (c + 1) * dims);
  return out;
}
