/**
 * Snapshots on JetStream: one object (`cell-state`) in the object store `snapshotBucket`, replaced
 * by every new snapshot (a 100k-node snapshot is several MB, more than a KV value holds). The
 * object store writes the new chunks first and switches the name over last, so a crash mid-write
 * leaves the previous snapshot in place; reads check the SHA-256 digest.
 *
 * The stored object is the msgpack snapshot (core/snapshot.ts) gzipped (level 1, in libuv's
 * thread pool: a 10 MB snapshot of synthetic columns shrinks tenfold in ~70 ms of another thread).
 *
 * The leader's `Snapshotter` writes one after `everyEntries` log entries, every `intervalMs` when
 * the log moved on, and on graceful shutdown. The model is copied while the writer is held (no
 * batch can be decided meanwhile, so the copy is consistent at `model.lastSeq`), in steps that
 * let the event loop run between them (lease renewals, reads); encoding, compression and upload
 * happen after, off the model.
 */
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Objm, setSha256Backend, StorageType, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResourceSpace } from '@tessera/core';
import type { Logger } from '@tessera/runtime';
import type { CellModel, ModelOptions } from '../core/model.ts';
import { decodeSnapshot, encodeSnapshot, restoreModel, snapshotSteps, type ModelSnapshot } from '../core/snapshot.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Name of the snapshot object in the bucket. */
export const SNAPSHOT_OBJECT = 'cell-state';
const CHUNK_BYTES = 1024 * 1024;
const RETRY_AFTER_FAILURE_MS = 10_000;

/** What the latest stored snapshot says about itself (without reading it). */
export interface StoredSnapshotInfo {
  readonly seq: number;
  readonly writer: string;
}

/** What the service needs of snapshot storage (an in-memory one in tests). */
export interface SnapshotStorePort {
  /** The latest snapshot's bytes, or null when there is none. Throws when it cannot be read (or its digest is wrong). */
  load(): Promise<Uint8Array | null>;
  /** The latest snapshot's sequence and writer, or null. */
  info(): Promise<StoredSnapshotInfo | null>;
  save(bytes: Uint8Array, info: StoredSnapshotInfo): Promise<void>;
}

export class SnapshotStore implements SnapshotStorePort {
  private constructor(private readonly os: ObjectStore, private readonly timeoutMs: number) {}

  /** Opens (creating if needed) the bucket. */
  static async open(nc: NatsConnection, bucket: string, opts: { replicas?: number; timeoutMs?: number } = {}): Promise<SnapshotStore> {
    // Node's own SHA-256 (the default is a pure-JS one, several times slower on MBs).
    setSha256Backend('native');
    const os = await new Objm(nc).create(bucket, { storage: StorageType.File, replicas: opts.replicas ?? 1, description: 'tessera cell-state snapshots' });
    return new SnapshotStore(os, opts.timeoutMs ?? 30_000);
  }

  load(): Promise<Uint8Array | null> {
    return this.os.getBlob(SNAPSHOT_OBJECT);
  }

  async info(): Promise<StoredSnapshotInfo | null> {
    const i = await this.os.info(SNAPSHOT_OBJECT);
    if (i === null || i.deleted) return null;
    try {
      const d = JSON.parse(i.description ?? '') as Partial<StoredSnapshotInfo>;
      return { seq: typeof d.seq === 'number' ? d.seq : 0, writer: typeof d.writer === 'string' ? d.writer : '' };
    } catch {
      return { seq: 0, writer: '' };
    }
  }

  async save(bytes: Uint8Array, info: StoredSnapshotInfo): Promise<void> {
    await this.os.putBlob({ name: SNAPSHOT_OBJECT, description: JSON.stringify(info), options: { max_chunk_size: CHUNK_BYTES } }, bytes, { timeout: this.timeoutMs });
  }
}

export interface SnapshotterOptions {
  readonly everyEntries: number;
  readonly intervalMs: number;
  readonly writerId: string;
  readonly now: () => number;
  readonly log: Logger;
  /** Creation time of the commit-log stream, recorded in the header. */
  readonly logCreated?: string;
  readonly onWritten?: (stats: SnapshotStats) => void;
}

export interface SnapshotStats {
  readonly seq: number;
  /** Stored (compressed) size. */
  readonly bytes: number;
  readonly rawBytes: number;
  readonly copySeconds: number;
  readonly encodeSeconds: number;
  readonly storeSeconds: number;
}

/**
 * Who copies the model, and how it is kept still meanwhile: the leader holds its writer, a
 * standby holds its log follower (no entry is applied until the copy is done).
 */
export type SnapshotRole =
  | { readonly kind: 'leader'; readonly hold: <T>(fn: () => Promise<T>) => Promise<T> }
  | { readonly kind: 'standby'; readonly hold: <T>(fn: () => Promise<T>) => Promise<T> }
  | { readonly kind: 'off' };

/**
 * A leader waits this much longer than a standby before writing one itself (a standby's copy
 * costs the commit path nothing; the margin covers a standby lagging a little behind the log).
 */
const LEADER_DELAY = 1.5;

class SnapshotAborted extends Error {
  override readonly name = 'SnapshotAborted';
}

/**
 * Writes snapshots on schedule: after `everyEntries` entries and every `intervalMs` when the log
 * moved on. A standby writes at that pace; the leader only when the stored snapshot is 1.5 × as
 * old (no standby kept it fresh), so with a standby the commit path never stops for a copy. Both
 * check the stored snapshot before copying and skip when another cell-state just wrote one.
 */
export class Snapshotter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SnapshotStats | undefined> | undefined;
  private notBefore = 0;
  private role: SnapshotRole = { kind: 'off' };
  private lastWrittenAt: number;
  private aborted = false;

  constructor(
    private readonly model: CellModel,
    private readonly store: SnapshotStorePort,
    private readonly opts: SnapshotterOptions,
    /** Sequence of the snapshot already stored (the one loaded at start, or 0). */
    private storedSeq: number,
  ) {
    this.lastWrittenAt = opts.now();
  }

  get lastSeq(): number {
    return this.storedSeq;
  }

  /** Follows the cell-state's role; leaving a role aborts a copy under way (a promotion must not wait for it). */
  setRole(role: SnapshotRole): void {
    if (this.role.kind !== role.kind) this.aborted = this.running !== undefined;
    this.role = role;
  }

  /** The interval timer (both roles). */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      const factor = this.role.kind === 'leader' ? LEADER_DELAY : 1;
      if (this.model.lastSeq > this.storedSeq && this.opts.now() - this.lastWrittenAt >= this.opts.intervalMs * factor) void this.snapshot('interval');
    }, Math.max(100, Math.floor(this.opts.intervalMs / 4)));
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** After entries were appended (leader) or applied (standby). */
  noteAppended(): void {
    if (this.opts.everyEntries <= 0 || this.role.kind === 'off' || this.opts.now() < this.notBefore) return;
    const factor = this.role.kind === 'leader' ? LEADER_DELAY : 1;
    if (this.model.lastSeq - this.storedSeq >= this.opts.everyEntries * factor) void this.snapshot('entries');
  }

  /** Resolves once no snapshot is being written. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Writes a snapshot now (joins one under way). Never throws: failures are logged. */
  snapshot(reason: string, force = false): Promise<SnapshotStats | undefined> {
    this.running ??= this.write(reason, force).finally(() => { this.running = undefined; this.aborted = false; });
    return this.running;
  }

  private async write(reason: string, force: boolean): Promise<SnapshotStats | undefined> {
    const role = this.role;
    if (role.kind === 'off') return undefined;
    try {
      if (!force) {
        // Another cell-state may have just written one: then ours is not due yet.
        const stored = await this.store.info();
        if (stored !== null && stored.seq > this.model.lastSeq) return undefined; // someone ahead of us wrote one
        if (stored !== null && stored.seq > this.storedSeq) {
          this.storedSeq = stored.seq;
          this.lastWrittenAt = this.opts.now();
          // Someone else keeps it fresh (less than one interval behind): ours is not due.
          if (this.model.lastSeq - stored.seq < this.opts.everyEntries || this.opts.everyEntries <= 0) return undefined;
        }
      }
      const t0 = performance.now();
      const snap = await role.hold(() => copyInSteps(this.model, { at: this.opts.now(), writer: this.opts.writerId, logCreated: this.opts.logCreated }, () => this.aborted));
      const t1 = performance.now();
      const raw = encodeSnapshot(snap);
      const bytes = await gzipAsync(raw, { level: 1 });
      const t2 = performance.now();
      await this.store.save(bytes, { seq: snap.meta.seq, writer: this.opts.writerId });
      const t3 = performance.now();
      this.storedSeq = Math.max(this.storedSeq, snap.meta.seq);
      this.lastWrittenAt = this.opts.now();
      const stats: SnapshotStats = { seq: snap.meta.seq, bytes: bytes.length, rawBytes: raw.length, copySeconds: (t1 - t0) / 1000, encodeSeconds: (t2 - t1) / 1000, storeSeconds: (t3 - t2) / 1000 };
      this.opts.log.info({
        reason, role: role.kind, seq: stats.seq, bytes: stats.bytes, rawBytes: stats.rawBytes, nodes: snap.meta.nodes, allocations: snap.meta.allocations, jobs: snap.meta.jobs, outcomes: snap.meta.outcomes,
        copyMs: Math.round(stats.copySeconds * 1000), encodeMs: Math.round(stats.encodeSeconds * 1000), storeMs: Math.round(stats.storeSeconds * 1000),
      }, 'snapshot written');
      this.opts.onWritten?.(stats);
      return stats;
    } catch (e) {
      if (e instanceof SnapshotAborted) {
        this.opts.log.info({ reason }, 'snapshot abandoned (role changed)');
        return undefined;
      }
      this.notBefore = this.opts.now() + RETRY_AFTER_FAILURE_MS;
      this.opts.log.warn({ err: e, reason }, 'snapshot failed; the log still holds everything');
      return undefined;
    }
  }
}

/** Runs `snapshotSteps`, letting the event loop run between steps (the caller keeps the model still). */
async function copyInSteps(model: CellModel, origin: Parameters<typeof snapshotSteps>[1], aborted: () => boolean): Promise<ModelSnapshot> {
  const steps = snapshotSteps(model, origin);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((res) => setImmediate(res));
    if (aborted()) throw new SnapshotAborted('the role changed during the copy');
  }
}

/** The commit log as a snapshot is checked against at start. */
export interface LogIdentity {
  readonly lastSeq: number;
  readonly firstSeq: number;
  readonly created: string;
}

export interface LoadedSnapshot {
  readonly model: CellModel;
  readonly seq: number;
  readonly bytes: number;
  readonly seconds: number;
}

/**
 * The model of the latest snapshot, when there is one that fits this log and configuration.
 * Anything else (unreadable, corrupt, another log, another configuration) is logged and answered
 * undefined: the caller replays the whole log. Never throws.
 */
export async function loadSnapshot(
  store: SnapshotStorePort,
  space: ResourceSpace,
  modelOpts: ModelOptions,
  logId: LogIdentity,
  log: Logger,
): Promise<LoadedSnapshot | undefined> {
  const t0 = performance.now();
  let bytes: Uint8Array | null;
  try {
    bytes = await store.load();
  } catch (e) {
    log.error({ err: e }, 'snapshot unreadable; replaying the whole commit log');
    return undefined;
  }
  if (bytes === null) {
    log.info('no snapshot yet; replaying the whole commit log');
    return undefined;
  }
  const ignore = (problem: string): undefined => {
    log.error({ problem, bytes: bytes!.length }, 'snapshot ignored; replaying the whole commit log');
    return undefined;
  };
  const stored = bytes.length;
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (e) {
      return ignore(`corrupt: not gunzipped: ${(e as Error).message}`);
    }
  }
  const d = decodeSnapshot(bytes);
  if (!d.ok) return ignore(`corrupt: ${d.problem}`);
  const meta = d.value.meta;
  if (meta.seq > logId.lastSeq) return ignore(`it reflects log sequence ${meta.seq}, the log ends at ${logId.lastSeq} (another log?)`);
  if (meta.logCreated !== undefined && meta.logCreated !== logId.created) return ignore(`it was taken of a commit log created ${meta.logCreated}, this one was created ${logId.created}`);
  if (logId.lastSeq > meta.seq && logId.firstSeq > meta.seq + 1) return ignore(`the log no longer holds the entries after ${meta.seq} (it starts at ${logId.firstSeq})`);
  const r = restoreModel(d.value, space, modelOpts);
  if (!r.ok) return ignore(`inconsistent: ${r.problem}`);
  return { model: r.value, seq: meta.seq, bytes: stored, seconds: (performance.now() - t0) / 1000 };
}
