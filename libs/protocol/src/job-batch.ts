/**
 * Job submissions many to a message. A jobs-stream message is either one `jobSubmission` (a
 * hand-back from cell-state, a replayed trace, an older client) or a `jobBatch` of first
 * submissions sharing one `submittedAt` (`tessera submit`, the benchmark). Every JetStream hop
 * costs per message — the publish and its ack, the store, a delivery to each consumer, each
 * consumer's ack — so batching small jobs divides all of it by the batch size.
 *
 * `JobBatchBuilder` encodes each job once and assembles the batch's msgpack bytes around the
 * encoded jobs, so a batch is cut by its exact size without encoding anything twice. Batches are
 * also cut by content (after a job whose id hashes to 0 mod `cutEvery`, as rsync cuts chunks):
 * the same jobs make the same batches wherever they sit in a file, so a resubmission — even of a
 * file with jobs added or removed — repeats most batches exactly, and JetStream's duplicate
 * window (message id = hash of the batch's job ids) drops them.
 */
import { checkAs, decodeBounded, DEFAULT_MAX_MESSAGE_BYTES, encode, type Decoded } from './codec.ts';
import { fastValidators } from './fast.ts';
import { MAX_JOBS_PER_MESSAGE, type JobSubmission } from './messages.ts';

/** Default cut of a batch: jobs and bytes (well under NATS' 1 MiB default payload limit). */
export const DEFAULT_JOBS_PER_BATCH = 256;
export const DEFAULT_BATCH_BYTES = 256 * 1024;
/** Mean jobs between content-defined cuts (a batch still ends at `maxJobs`). */
export const DEFAULT_CUT_EVERY = 128;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether a content-defined batch ends after the job with this id (about one id in `every`). */
export function endsBatch(id: string, every: number = DEFAULT_CUT_EVERY): boolean {
  return every <= 1 || fnv1a(id) % every === 0;
}

/**
 * The submissions a jobs-stream message carries (one for a single submission, all the batch's
 * jobs for a batch), validated; an error reply when it does not decode or validate.
 */
export function decodeJobsMessage(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): Decoded<JobSubmission[]> {
  const d = decodeBounded(bytes, maxBytes);
  if (!d.ok) return d;
  const raw = d.value;
  if (typeof raw === 'object' && raw !== null && 'jobs' in raw) {
    const b = checkAs(raw, fastValidators.jobBatch);
    if (!b.ok) return b;
    const { jobs, submittedAt } = b.value;
    const out: JobSubmission[] = new Array(jobs.length);
    for (let i = 0; i < jobs.length; i++) out[i] = { job: jobs[i], submittedAt };
    return { ok: true, value: out };
  }
  const one = checkAs(raw, fastValidators.jobSubmission);
  return one.ok ? { ok: true, value: [one.value] } : one;
}

const KEY_JOBS = new Uint8Array([0xa4, 0x6a, 0x6f, 0x62, 0x73]); // fixstr "jobs"
const KEY_SUBMITTED_AT = new Uint8Array([0xab, ...new TextEncoder().encode('submittedAt')]); // fixstr(11)

/** msgpack array header for `n` elements. */
function arrayHeader(n: number): Uint8Array {
  if (n < 16) return new Uint8Array([0x90 | n]);
  if (n < 0x10000) return new Uint8Array([0xdc, n >> 8, n & 0xff]);
  return new Uint8Array([0xdd, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

export interface BuiltBatch {
  /** The message: `{ jobs: [...], submittedAt }` in msgpack. */
  readonly payload: Uint8Array;
  /** Ids of the jobs in it, in order (for the message id and the caller's bookkeeping). */
  readonly ids: readonly string[];
}

/** Collects jobs into `jobBatch` messages of at most `maxJobs` jobs and about `maxBytes` bytes. */
export class JobBatchBuilder {
  private parts: Uint8Array[] = [];
  private ids: string[] = [];
  private bytes = 0;
  /** The last job added ends a content-defined batch. */
  private cut = false;
  readonly maxJobs: number;

  /** `cutEvery` 0: no content-defined cuts (batches end only at `maxJobs`/`maxBytes`). */
  constructor(maxJobs: number = DEFAULT_JOBS_PER_BATCH, readonly maxBytes: number = DEFAULT_BATCH_BYTES, readonly cutEvery: number = DEFAULT_CUT_EVERY) {
    this.maxJobs = Math.max(1, Math.min(MAX_JOBS_PER_MESSAGE, Math.floor(maxJobs)));
  }

  get size(): number {
    return this.ids.length;
  }

  /**
   * Adds a job; when the batch being built is full, would overflow, or ended at a content cut,
   * that batch is finished first and returned (a job larger than `maxBytes` still goes, alone).
   */
  add(job: { readonly id: string }, submittedAt: number): BuiltBatch | undefined {
    const bytes = encode(job);
    let done: BuiltBatch | undefined;
    if (this.ids.length > 0 && (this.cut || this.ids.length >= this.maxJobs || this.bytes + bytes.length > this.maxBytes)) done = this.take(submittedAt);
    this.parts.push(bytes);
    this.ids.push(job.id);
    this.bytes += bytes.length;
    this.cut = this.cutEvery > 0 && endsBatch(job.id, this.cutEvery);
    return done;
  }

  /** The batch built so far (undefined when empty); the builder starts a new one. */
  take(submittedAt: number): BuiltBatch | undefined {
    const n = this.ids.length;
    if (n === 0) return undefined;
    const header = arrayHeader(n);
    const at = encode(submittedAt);
    const payload = new Uint8Array(1 + KEY_JOBS.length + header.length + this.bytes + KEY_SUBMITTED_AT.length + at.length);
    let o = 0;
    payload[o++] = 0x82; // fixmap of 2
    payload.set(KEY_JOBS, o); o += KEY_JOBS.length;
    payload.set(header, o); o += header.length;
    for (const p of this.parts) { payload.set(p, o); o += p.length; }
    payload.set(KEY_SUBMITTED_AT, o); o += KEY_SUBMITTED_AT.length;
    payload.set(at, o);
    const ids = this.ids;
    this.parts = [];
    this.ids = [];
    this.bytes = 0;
    this.cut = false;
    return { payload, ids };
  }
}
