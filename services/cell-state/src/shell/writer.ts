/**
 * The single writer of the commit log: every change of authoritative state goes through here, in
 * order. Requests queue up; a flush takes the queue (group commit: the first request waits at
 * most `batchMs` for company, a full batch goes at once, and whatever arrives while an append is
 * in flight goes in the next one), decides the batch's transactions with the core Committer,
 * appends ONE entry to the log (fenced on the last sequence), and only after the ack applies the
 * other records and answers. A failed append undoes the batch and answers `unavailable`; the
 * writer then catches up with the log before deciding anything else (the append may have landed
 * after all, or another writer may have appended).
 *
 * Flushes never overlap, so nothing else mutates the model between deciding and applying;
 * `exclusive(fn)` runs `fn` between flushes (a snapshot must never see a decided batch that is
 * not durable yet).
 *
 * High availability: only the leader writes. `suspend()` refuses work while this cell-state is a
 * standby, `mayAppend` is asked right before every append (a leader whose lease lapsed does not
 * append), and an append refused by the fence (another writer appended) calls `onFenced`: the
 * caller steps down.
 */
import { performance } from 'node:perf_hooks';
import type { Transaction, TxnResult } from '@tessera/core';
import { errorReply, ErrorCode, type ErrorReply } from '@tessera/protocol';
import type { Logger } from '@tessera/runtime';
import { LOG_FORMAT_VERSION, sealEntry, type LogEntry, type LogRecord, type SealedEntry } from '../core/log-records.ts';
import {
  applyRecord, decideCommitBatch, emptyEffects, settleCommitted, undoCommitBatch,
  type ApplyEffects, type CellModel, type DecidedBatch, type RecordResult,
} from '../core/model.ts';
import { AppendError, type CommitLogPort } from './commit-log.ts';
import type { CellMetrics } from './metrics.ts';
import { replayInto } from './replay.ts';

export type Outcome<T> = { readonly ok: true; readonly value: T } | ErrorReply;

interface CommitIntent {
  readonly kind: 'commit';
  readonly txns: readonly Transaction[];
  readonly claims: number;
  readonly resolve: (o: Outcome<TxnResult[]>) => void;
}
interface RecordIntent {
  readonly kind: 'record';
  readonly record: LogRecord;
  /** Rough encoded size, to keep an entry under the message size limit. */
  readonly bytes: number;
  readonly resolve: (o: Outcome<RecordResult>) => void;
}
type Intent = CommitIntent | RecordIntent;

/** The flush loop yields to the event loop between batches once it has run this long (ms). */
const YIELD_AFTER_MS = 20;

export interface WriterOptions {
  readonly writerId: string;
  readonly batchMs: number;
  readonly batchMaxTxns: number;
  /**
   * Claims per entry before a batch is cut (keeps an entry well under the 8 MiB payload limit, and
   * one batch's synchronous decide + encode short: at 40,000 claims a full batch held the event
   * loop 0.4-1.2 s under overload on a busy machine, long enough for the 1.5 s leader lease to
   * lapse between renewals and for every sync request to wait). Default 8,000.
   */
  readonly batchMaxClaims?: number;
  readonly appendTimeoutMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: CellMetrics;
  /** Side effects of applied records (assignments, hand-backs, liveness), live or caught up. */
  readonly onEffects: (effects: ApplyEffects, source: 'live' | 'catch-up') => void;
  /** Asked right before every append; false (not the leader, or its lease lapsed) refuses the batch. */
  readonly mayAppend?: () => boolean;
  /** An append was refused by the fence: another writer appended to the log. */
  readonly onFenced?: (error: AppendError) => void;
}

const MAX_RECORDS_PER_ENTRY = 2_000;
const CATCH_UP_RETRY_MS = 1_000;
/** Job specs can be large: an entry carries at most about this much of them (the limit is 8 MiB). */
const MAX_RECORD_BYTES_PER_ENTRY = 2 * 1024 * 1024;

export class LogWriter {
  private queue: Intent[] = [];
  private queuedTxns = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private busy = false;
  private needsCatchUp = false;
  private closed = false;
  /** Set while this cell-state is not the leader: requests are refused, nothing is appended. */
  private suspended: string | undefined;
  private readonly exclusives: (() => void | Promise<void>)[] = [];
  private appendCounter = 0;
  private readonly idle: (() => void)[] = [];
  private readonly batchMaxClaims: number;
  /** Recent batches for the healthz figures: [txns, claims, seconds]. */
  lastBatch: { txns: number; claims: number; records: number; bytes: number; seconds: number } | undefined;

  constructor(
    private readonly model: CellModel,
    private readonly commitLog: CommitLogPort,
    private readonly opts: WriterOptions,
  ) {
    this.batchMaxClaims = opts.batchMaxClaims ?? 8_000;
  }

  get queued(): number {
    return this.queue.length;
  }

  get catchingUp(): boolean {
    return this.needsCatchUp;
  }

  get isSuspended(): boolean {
    return this.suspended !== undefined;
  }

  private refusal(): ErrorReply | undefined {
    if (this.closed) return unavailable('cell-state is shutting down');
    if (this.suspended !== undefined) return unavailable(this.suspended);
    return undefined;
  }

  /** Decides transactions in the next batch; resolves once the batch is durable (or failed). */
  commit(txns: readonly Transaction[]): Promise<Outcome<TxnResult[]>> {
    const refused = this.refusal();
    if (refused !== undefined) return Promise.resolve(refused);
    let claims = 0;
    for (const t of txns) claims += t.claims.length;
    return new Promise((resolve) => this.enqueue({ kind: 'commit', txns, claims, resolve }, txns.length));
  }

  /** Appends a record in the next batch and applies it once durable; resolves with its result. */
  append(record: LogRecord, sizeHint = 256): Promise<Outcome<RecordResult>> {
    const refused = this.refusal();
    if (refused !== undefined) return Promise.resolve(refused);
    return new Promise((resolve) => this.enqueue({ kind: 'record', record, bytes: sizeHint, resolve }, 0));
  }

  /** Refuses new work and waits for the queue to drain. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    if (this.timer !== undefined) this.flushSoon(true);
    if (!this.busy && this.queue.length === 0) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  /**
   * Refuses new work with `unavailable` (`reason`), refuses what is queued, and resolves once no
   * batch is in flight (an append under way still completes: if it lands, it is applied and
   * answered). The model then equals the log up to `model.lastSeq`.
   */
  async suspend(reason: string): Promise<void> {
    this.suspended = reason;
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    for (const it of this.takeAll()) resolveFailed(it, reason);
    if (!this.busy) return;
    await new Promise<void>((r) => this.idle.push(r));
  }

  /** Takes work again (the caller has brought the model up to the log's end). */
  resume(): void {
    this.suspended = undefined;
    this.needsCatchUp = false;
  }

  /** Runs `fn` when no batch is in flight (at once when idle), e.g. to copy the model for a snapshot. */
  exclusive<T>(fn: () => T): Promise<T> {
    if (!this.busy) {
      try {
        return Promise.resolve(fn());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.exclusives.push(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /**
   * Runs `fn` with the writer held: no batch is decided until its promise settles (the model does
   * not change meanwhile), while the event loop keeps running (I/O, timers, reads).
   */
  exclusiveAsync<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = async () => {
        try {
          resolve(await fn());
        } catch (e) {
          reject(e);
        }
      };
      if (this.busy) {
        this.exclusives.push(run);
        return;
      }
      this.busy = true;
      void run().finally(() => {
        this.busy = false;
        this.release();
      });
    });
  }

  private async runExclusives(): Promise<void> {
    for (const f of this.exclusives.splice(0)) await f();
  }

  /** After the writer was held: exclusive work queued meanwhile, then the queue, else wake the idle waiters. */
  private release(): void {
    if (this.exclusives.length > 0) {
      this.busy = true;
      void this.runExclusives().finally(() => {
        this.busy = false;
        this.release();
      });
      return;
    }
    if (this.queue.length > 0) this.flushSoon(false);
    else for (const r of this.idle.splice(0)) r();
  }

  private enqueue(intent: Intent, txns: number): void {
    this.queue.push(intent);
    this.queuedTxns += txns;
    if (this.busy) return; // the running flush picks it up
    if (this.queuedTxns >= this.opts.batchMaxTxns) this.flushSoon(true);
    else if (this.timer === undefined) this.flushSoon(false);
  }

  private flushSoon(now: boolean): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    const run = () => {
      this.timer = undefined;
      void this.flush();
    };
    this.timer = now || this.opts.batchMs <= 0 ? setImmediate(run) : setTimeout(run, this.opts.batchMs);
  }

  private async flush(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    let sliceStart = performance.now();
    try {
      while (true) {
        await this.runExclusives();
        // After a failed append, catch up at once (not at the next request): the append may have
        // landed, and until the state has it, reads (sync, listings, heartbeats) would lag the log.
        if (this.needsCatchUp) {
          try {
            await this.catchUp();
          } catch (e) {
            this.opts.log.error({ err: e }, 'cannot catch up with the commit log; refusing the queued requests');
            const failed = this.takeAll();
            for (const it of failed) resolveFailed(it, 'the commit log is unreachable; retry later');
            this.retryTimer ??= setTimeout(() => {
              this.retryTimer = undefined;
              void this.flush();
            }, CATCH_UP_RETRY_MS);
            break;
          }
        }
        if (this.queue.length === 0) break;
        // An event-loop turn between batches once this loop has held the thread for a while: the
        // answers of the last batch and the decision of the next would otherwise run back to back
        // in one microtask chain, and under overload timers (the lease renewal) and other sockets
        // (syncs) would wait behind several batches.
        if (performance.now() - sliceStart > YIELD_AFTER_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sliceStart = performance.now();
          if (this.queue.length === 0) break;
        }
        await this.runBatch(this.takeBatch());
      }
    } finally {
      await this.runExclusives();
      this.busy = false;
      this.release();
    }
  }

  private takeAll(): Intent[] {
    const all = this.queue;
    this.queue = [];
    this.queuedTxns = 0;
    return all;
  }

  /** The head of the queue up to the batch caps (a single oversized request still goes alone). */
  private takeBatch(): Intent[] {
    let txns = 0, claims = 0, records = 0, bytes = 0, i = 0;
    for (; i < this.queue.length; i++) {
      const it = this.queue[i];
      if (it.kind === 'commit') {
        if (i > 0 && (txns + it.txns.length > this.opts.batchMaxTxns || claims + it.claims > this.batchMaxClaims)) break;
        txns += it.txns.length;
        claims += it.claims;
      } else {
        if (i > 0 && (records >= MAX_RECORDS_PER_ENTRY || bytes + it.bytes > MAX_RECORD_BYTES_PER_ENTRY)) break;
        records++;
        bytes += it.bytes;
      }
    }
    const batch = this.queue.slice(0, i);
    this.queue = this.queue.slice(i);
    this.queuedTxns -= txns;
    return batch;
  }

  private async runBatch(intents: Intent[]): Promise<void> {
    const t0 = performance.now();
    const model = this.model;
    const seq = model.lastSeq + 1;
    const at = this.opts.now();

    const txns: Transaction[] = [];
    for (const it of intents) if (it.kind === 'commit') for (const t of it.txns) txns.push(t);
    const decided: DecidedBatch | undefined = txns.length > 0 ? decideCommitBatch(model, txns, seq) : undefined;

    const records: LogRecord[] = [];
    if (decided?.record !== undefined) records.push(decided.record);
    for (const it of intents) if (it.kind === 'record') records.push(it.record);

    if (records.length === 0) {
      // Only replays of known transactions: nothing changes, nothing to append.
      this.answerCommits(intents, decided!.results);
      this.opts.metrics.countResults(decided!.results);
      return;
    }

    const entry: LogEntry = { v: LOG_FORMAT_VERSION, at, writer: this.opts.writerId, records };
    let bytes: Uint8Array;
    let sealed: SealedEntry;
    let stored: number;
    if (this.suspended !== undefined || (this.opts.mayAppend !== undefined && !this.opts.mayAppend())) {
      // Not (or no longer) the leader: decided but never appended, so nothing to catch up with.
      if (decided !== undefined) undoCommitBatch(model, decided);
      const reason = this.suspended ?? 'this cell-state is not the leader (its lease lapsed)';
      for (const it of intents) resolveFailed(it, reason);
      return;
    }
    try {
      if (model.lastHash === undefined) throw new Error(`the chain hash of entry ${model.lastSeq} is unknown (replay first)`);
      sealed = sealEntry(entry, model.lastHash);
      bytes = sealed.bytes;
      stored = await this.commitLog.append(bytes, {
        msgID: `${this.opts.writerId}.${seq}.${++this.appendCounter}`,
        expectLastSeq: model.lastSeq,
        timeoutMs: this.opts.appendTimeoutMs,
      });
    } catch (e) {
      if (decided !== undefined) undoCommitBatch(model, decided);
      this.needsCatchUp = true;
      this.opts.metrics.appendFailed();
      this.opts.log.warn({ err: e, seq, txns: txns.length, records: records.length }, 'commit-log append failed; batch undone and refused');
      for (const it of intents) resolveFailed(it, `the commit log did not take the batch: ${(e as Error).message}`);
      if (e instanceof AppendError && e.fenced) this.opts.onFenced?.(e);
      return;
    }
    model.lastSeq = stored;
    model.lastHash = sealed.hash;
    model.chained = true;

    const effects = emptyEffects();
    if (decided !== undefined) {
      settleCommitted(model, decided.committed, at);
      for (const a of decided.committed) effects.committed.push(a);
    }
    for (const it of intents) {
      if (it.kind !== 'record') continue;
      let result: RecordResult;
      try {
        result = applyRecord(model, it.record, at, stored, effects);
      } catch (e) {
        // Durable but not applicable here: the state now lags the log; catch up rebuilds nothing
        // twice (it starts after `stored`), so report and carry on.
        this.opts.log.error({ err: e, record: it.record.t }, 'applying a durable record failed');
        it.resolve(errorReply(ErrorCode.internal, (e as Error).message));
        continue;
      }
      it.resolve({ ok: true, value: result });
    }
    if (decided !== undefined) {
      this.answerCommits(intents, decided.results);
      this.opts.metrics.countResults(decided.results);
    }
    const seconds = (performance.now() - t0) / 1000;
    this.opts.metrics.observeBatch(seconds, txns.length);
    this.lastBatch = { txns: txns.length, claims: decided?.committed.length ?? 0, records: records.length, bytes: bytes.length, seconds };
    this.opts.onEffects(effects, 'live');
  }

  private answerCommits(intents: readonly Intent[], results: readonly TxnResult[]): void {
    let k = 0;
    for (const it of intents) {
      if (it.kind !== 'commit') continue;
      it.resolve({ ok: true, value: results.slice(k, k + it.txns.length) });
      k += it.txns.length;
    }
  }

  /** Applies whatever the log holds beyond what this writer applied (after a failed append). */
  async catchUp(): Promise<void> {
    const last = await this.commitLog.lastSequence();
    if (last > this.model.lastSeq) {
      const from = this.model.lastSeq + 1;
      const stats = await replayInto(this.model, this.commitLog, last, this.opts.log, (eff) => this.opts.onEffects(eff, 'catch-up'));
      this.opts.log.warn({ from, to: last, entries: stats.entries }, 'caught up with entries appended beyond this writer');
    }
    this.needsCatchUp = false;
  }
}

function unavailable(message: string): ErrorReply {
  return errorReply(ErrorCode.unavailable, message);
}

function resolveFailed(it: Intent, message: string): void {
  it.resolve(unavailable(message));
}
