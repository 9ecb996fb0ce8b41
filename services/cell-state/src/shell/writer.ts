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
 * Flushes never overlap, so nothing else mutates the model between deciding and applying.
 */
import { performance } from 'node:perf_hooks';
import type { Transaction, TxnResult } from '@tessera/core';
import { errorReply, ErrorCode, type ErrorReply } from '@tessera/protocol';
import type { Logger } from '@tessera/runtime';
import { encodeEntry, type LogEntry, type LogRecord } from '../core/log-records.ts';
import {
  applyRecord, decideCommitBatch, emptyEffects, settleCommitted, undoCommitBatch,
  type ApplyEffects, type CellModel, type DecidedBatch, type RecordResult,
} from '../core/model.ts';
import type { CommitLogPort } from './commit-log.ts';
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

export interface WriterOptions {
  readonly writerId: string;
  readonly batchMs: number;
  readonly batchMaxTxns: number;
  /** Claims per entry before a batch is cut (keeps an entry well under the 8 MiB payload limit). */
  readonly batchMaxClaims?: number;
  readonly appendTimeoutMs: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: CellMetrics;
  /** Side effects of applied records (assignments, hand-backs, liveness), live or caught up. */
  readonly onEffects: (effects: ApplyEffects, source: 'live' | 'catch-up') => void;
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
    this.batchMaxClaims = opts.batchMaxClaims ?? 40_000;
  }

  get queued(): number {
    return this.queue.length;
  }

  get catchingUp(): boolean {
    return this.needsCatchUp;
  }

  /** Decides transactions in the next batch; resolves once the batch is durable (or failed). */
  commit(txns: readonly Transaction[]): Promise<Outcome<TxnResult[]>> {
    if (this.closed) return Promise.resolve(unavailable('cell-state is shutting down'));
    let claims = 0;
    for (const t of txns) claims += t.claims.length;
    return new Promise((resolve) => this.enqueue({ kind: 'commit', txns, claims, resolve }, txns.length));
  }

  /** Appends a record in the next batch and applies it once durable; resolves with its result. */
  append(record: LogRecord, sizeHint = 256): Promise<Outcome<RecordResult>> {
    if (this.closed) return Promise.resolve(unavailable('cell-state is shutting down'));
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
    try {
      while (true) {
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
        await this.runBatch(this.takeBatch());
      }
    } finally {
      this.busy = false;
      if (this.queue.length > 0) this.flushSoon(false);
      else for (const r of this.idle.splice(0)) r();
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

    const entry: LogEntry = { v: 1, at, writer: this.opts.writerId, records };
    let bytes: Uint8Array;
    let stored: number;
    try {
      bytes = encodeEntry(entry);
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
      return;
    }
    model.lastSeq = stored;

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
