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
import type { LogWriter } from './writer.ts';

/** Name of the snapshot object in the bucket. */
export const SNAPSHOT_OBJECT = 'cell-state';
const CHUNK_BYTES = 1024 * 1024;
const RETRY_AFTER_FAILURE_MS = 10_000;

/** What the service needs of snapshot storage (an in-memory one in tests). */
export interface SnapshotStorePort {
  /** The latest snapshot's bytes, or null when there is none. Throws when it cannot be read (or its digest is wrong). */
  load(): Promise<Uint8Array | null>;
  save(bytes: Uint8Array, description: string): Promise<void>;
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

  async save(bytes: Uint8Array, description: string): Promise<void> {
    await this.os.putBlob({ name: SNAPSHOT_OBJECT, description, options: { max_chunk_size: CHUNK_BYTES } }, bytes, { timeout: this.timeoutMs });
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

export class Snapshotter {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SnapshotStats | undefined> | undefined;
  private notBefore = 0;

  constructor(
    private readonly model: CellModel,
    private readonly writer: LogWriter,
    private readonly store: SnapshotStorePort,
    private readonly opts: SnapshotterOptions,
    /** Sequence of the snapshot already stored (the one loaded at start, or 0). */
    private storedSeq: number,
  ) {}

  get lastSeq(): number {
    return this.storedSeq;
  }

  /** Leader only: the interval timer. */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer !== undefined) return;
    this.timer = setInterval(() => {
      if (this.model.lastSeq > this.storedSeq) void this.snapshot('interval');
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** After appends: snapshot once `everyEntries` entries piled up since the last one. */
  noteAppended(): void {
    if (this.opts.everyEntries > 0 && this.model.lastSeq - this.storedSeq >= this.opts.everyEntries && this.opts.now() >= this.notBefore) void this.snapshot('entries');
  }

  /** Writes a snapshot now (joins one under way). Never throws: failures are logged. */
  snapshot(reason: string): Promise<SnapshotStats | undefined> {
    this.running ??= this.write(reason).finally(() => { this.running = undefined; });
    return this.running;
  }

  private async write(reason: string): Promise<SnapshotStats | undefined> {
    try {
      const t0 = performance.now();
      const snap = await this.writer.exclusiveAsync(() => copyInSteps(this.model, { at: this.opts.now(), writer: this.opts.writerId, logCreated: this.opts.logCreated }));
      const t1 = performance.now();
      const raw = encodeSnapshot(snap);
      const bytes = await gzipAsync(raw, { level: 1 });
      const t2 = performance.now();
      await this.store.save(bytes, `seq ${snap.meta.seq}`);
      const t3 = performance.now();
      this.storedSeq = Math.max(this.storedSeq, snap.meta.seq);
      const stats: SnapshotStats = { seq: snap.meta.seq, bytes: bytes.length, rawBytes: raw.length, copySeconds: (t1 - t0) / 1000, encodeSeconds: (t2 - t1) / 1000, storeSeconds: (t3 - t2) / 1000 };
      this.opts.log.info({
        reason, seq: stats.seq, bytes: stats.bytes, rawBytes: stats.rawBytes, nodes: snap.meta.nodes, allocations: snap.meta.allocations, jobs: snap.meta.jobs, outcomes: snap.meta.outcomes,
        copyMs: Math.round(stats.copySeconds * 1000), encodeMs: Math.round(stats.encodeSeconds * 1000), storeMs: Math.round(stats.storeSeconds * 1000),
      }, 'snapshot written');
      this.opts.onWritten?.(stats);
      return stats;
    } catch (e) {
      this.notBefore = this.opts.now() + RETRY_AFTER_FAILURE_MS;
      this.opts.log.warn({ err: e, reason }, 'snapshot failed; the log still holds everything');
      return undefined;
    }
  }
}

/** Runs `snapshotSteps`, letting the event loop run between steps (the caller holds the writer). */
async function copyInSteps(model: CellModel, origin: Parameters<typeof snapshotSteps>[1]): Promise<ModelSnapshot> {
  const steps = snapshotSteps(model, origin);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((res) => setImmediate(res));
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
