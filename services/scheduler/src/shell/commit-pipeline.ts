/**
 * Sends transactions to the committer in batches. Proposals queue up; up to `inFlight` commit
 * requests are outstanding at once, and every transaction that becomes ready while they are
 * busy goes into the next request (up to the wire limits). Under light load a transaction leaves
 * at once in a request of its own; under heavy load requests grow, so the committer does one
 * group commit for many jobs. This is the scheduler's throughput lever.
 *
 * A request that fails in a way retrying can fix (timeout, no responders, not leader,
 * unavailable, a NATS reconnect while it was out) is sent again, unchanged: transaction ids are
 * idempotency keys, so a request that did commit before its reply was lost returns the original
 * outcome. One attempt waits `timeoutMs` (2 s by default), doubling per failed attempt up to
 * `maxTimeoutMs`, so a request lost with a dying NATS server or cell-state leader is resent within
 * seconds, and at once when the client reports a reconnect (core/resend.ts). After `giveUpAfterMs`
 * the transactions are failed with {@link CommitUnavailableError}; their outcome is then in doubt.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResourceSpace, Transaction, TxnResult } from '@tessera/core';
import { commitReplyFast, RemoteError, txnResultFromWire, txnToWire, type Subjects, type WireTransaction } from '@tessera/protocol';
import type { Logger } from '@tessera/runtime';
import { nextBatchEnd } from '../core/commit-batching.ts';
import { attemptTimeoutMs, resendDelayMs, type ResendPolicy } from '../core/resend.ts';
import { attemptFailure, isTransient, PayloadTooLargeError, requestSized, sleep } from './bus.ts';
import type { SchedulerMetrics } from './metrics.ts';
import type { ReconnectSignal } from './reconnects.ts';

/** The committer could not be reached (or kept failing) for too long; the outcome is unknown. */
export class CommitUnavailableError extends Error {
  override readonly name = 'CommitUnavailableError';
}

/** The committer refused the request itself (not a claim): retrying the same request cannot help. */
export class CommitRefusedError extends Error {
  override readonly name = 'CommitRefusedError';
}

export type CommitCallback = (result: TxnResult | Error) => void;

export interface CommitPipelineOptions {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly space: ResourceSpace;
  readonly log: Logger;
  readonly metrics: SchedulerMetrics;
  readonly maxClaimsPerRequest: number;
  readonly inFlight: number;
  /** The first attempt's timeout (ms). */
  readonly timeoutMs: number;
  /** Attempt timeouts double per failure up to this (ms; default `timeoutMs`: no growth). */
  readonly maxTimeoutMs?: number;
  /** Stop resending a failing request after this long (default 30 s). */
  readonly giveUpAfterMs?: number;
  /** Aborts on a NATS reconnect: attempts out at that moment are resent at once. */
  readonly reconnects?: ReconnectSignal;
}

export class CommitPipeline {
  // The queue as parallel arrays with a moving head: no per-proposal wrapper objects.
  private txns: Transaction[] = [];
  private callbacks: CommitCallback[] = [];
  private sizes: number[] = [];
  private head = 0;
  private busy = 0;
  private scheduled = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private readonly names: readonly string[];
  private readonly resend: ResendPolicy;

  constructor(private readonly o: CommitPipelineOptions) {
    this.names = o.space.names;
    this.resend = { attemptTimeoutMs: o.timeoutMs, maxAttemptTimeoutMs: o.maxTimeoutMs ?? o.timeoutMs };
  }

  /** Transactions queued and not yet sent. */
  get queued(): number {
    return this.txns.length - this.head;
  }

  get requestsInFlight(): number {
    return this.busy;
  }

  /** Queues a transaction; `done` is called once with its result or an error. */
  propose(txn: Transaction, done: CommitCallback): void {
    if (this.stopped) {
      done(new CommitUnavailableError('the scheduler is shutting down'));
      return;
    }
    this.txns.push(txn);
    this.callbacks.push(done);
    this.sizes.push(txn.claims.length);
    if (!this.scheduled && this.busy < this.o.inFlight) {
      // Let every proposal made in this turn of the event loop join the request.
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  /** Fails queued transactions and stops resending; requests already out finish. */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    const cbs = this.callbacks.slice(this.head);
    this.txns = [];
    this.callbacks = [];
    this.sizes = [];
    this.head = 0;
    for (const cb of cbs) settle(cb, new CommitUnavailableError('the scheduler is shutting down'), this.o.log);
  }

  private pump(): void {
    while (this.busy < this.o.inFlight && this.head < this.txns.length) {
      const from = this.head;
      const end = nextBatchEnd(this.sizes, from, Infinity, this.o.maxClaimsPerRequest);
      const txns = this.txns.slice(from, end);
      const cbs = this.callbacks.slice(from, end);
      let claims = 0;
      for (let i = from; i < end; i++) claims += this.sizes[i];
      this.head = end;
      if (this.head > 4096 && this.head * 2 > this.txns.length) this.compact();
      this.busy++;
      void this.send(txns, cbs, claims).finally(() => {
        this.busy--;
        this.pump();
      });
    }
    if (this.head === this.txns.length && this.head > 0) this.compact();
  }

  private compact(): void {
    this.txns = this.txns.slice(this.head);
    this.callbacks = this.callbacks.slice(this.head);
    this.sizes = this.sizes.slice(this.head);
    this.head = 0;
  }

  private async send(txns: Transaction[], cbs: CommitCallback[], claims: number): Promise<void> {
    const wire: WireTransaction[] = new Array(txns.length);
    for (let i = 0; i < txns.length; i++) wire[i] = txnToWire(txns[i]);
    const payload = { resources: this.names, txns: wire };
    const giveUpAt = Date.now() + (this.o.giveUpAfterMs ?? 30_000);
    let failures = 0;
    for (;;) {
      const t0 = performance.now();
      // The last attempt ends at the give-up time, not an attempt timeout after it.
      const timeout = Math.max(100, Math.min(attemptTimeoutMs(failures + 1, this.resend), giveUpAt - Date.now()));
      try {
        const reply = await requestSized(this.o.nc, this.o.subjects.commit, payload, commitReplyFast, timeout, this.o.reconnects?.signal);
        this.o.metrics.commitSeconds.observe((performance.now() - t0) / 1000);
        this.o.metrics.commitBatchClaims.observe(claims);
        this.o.metrics.commitBatchTxns.observe(txns.length);
        this.deliver(txns, cbs, reply.value.results);
        return;
      } catch (e) {
        failures++;
        if (e instanceof PayloadTooLargeError && txns.length > 1) {
          // Batched past the server's message limit (--batch-claims counts claims, not bytes):
          // the halves go on their own, each split again if still too large.
          const half = txns.length >> 1;
          const claimsOf = (list: readonly Transaction[]) => list.reduce((n, t) => n + t.claims.length, 0);
          await Promise.all([
            this.send(txns.slice(0, half), cbs.slice(0, half), claimsOf(txns.slice(0, half))),
            this.send(txns.slice(half), cbs.slice(half), claimsOf(txns.slice(half))),
          ]);
          return;
        }
        if (!isTransient(e)) {
          this.o.log.error({ err: e, txns: txns.length, claims }, 'commit request refused');
          const err = new CommitRefusedError(e instanceof RemoteError ? e.message : String(e), { cause: e });
          for (const cb of cbs) settle(cb, err, this.o.log);
          return;
        }
        if (this.stopped || Date.now() >= giveUpAt) {
          this.o.log.error({ err: e, txns: txns.length, claims, failures }, 'commit request kept failing; giving up on it');
          const err = new CommitUnavailableError(`commit failed ${failures} times: ${(e as Error)?.message ?? String(e)}`, { cause: e });
          for (const cb of cbs) settle(cb, err, this.o.log);
          return;
        }
        const failure = attemptFailure(e);
        if (failures === 1 || failures % 10 === 0) this.o.log.warn({ err: e, failure, txns: txns.length, failures, timeoutMs: timeout }, 'commit request failed; resending');
        this.o.metrics.commitResends.inc({ cause: failure });
        await sleep(resendDelayMs(failure, failures), this.abort.signal);
      }
    }
  }

  private deliver(txns: Transaction[], cbs: CommitCallback[], results: readonly { txnId: string }[]): void {
    // Results normally come back in request order; fall back to a lookup when they do not.
    const inOrder = results.length === txns.length && results.every((r, i) => r.txnId === txns[i].id);
    let byId: Map<string, (typeof results)[number]> | undefined;
    if (!inOrder) byId = new Map(results.map((r) => [r.txnId, r]));
    for (let i = 0; i < txns.length; i++) {
      const w = inOrder ? results[i] : byId!.get(txns[i].id);
      if (w === undefined) {
        settle(cbs[i], new CommitUnavailableError(`the committer's reply has no result for transaction ${txns[i].id}`), this.o.log);
        continue;
      }
      let result: TxnResult;
      try {
        result = txnResultFromWire(this.o.space, w as Parameters<typeof txnResultFromWire>[1]);
      } catch (e) {
        settle(cbs[i], e as Error, this.o.log);
        continue;
      }
      settle(cbs[i], result, this.o.log);
    }
  }
}

function settle(cb: CommitCallback, r: TxnResult | Error, log: Logger): void {
  try {
    cb(r);
  } catch (e) {
    log.error({ err: e }, 'commit callback failed');
  }
}
