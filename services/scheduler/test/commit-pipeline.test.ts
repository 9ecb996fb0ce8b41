/**
 * The commit pipeline against a fake committer on a fake connection: proposals made while
 * requests are out are grouped into the next request, at most `inFlight` requests are out,
 * transient failures resend the same request (at once after a timeout or a reconnect, with
 * doubling attempt timeouts), refusals fail its transactions.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ResourceSpace, type Transaction, type TxnResult } from '@tessera/core';
import { decodeRaw, encode, errorReply, subjectsFor, type CommitRequest } from '@tessera/protocol';
import { createLogger } from '@tessera/runtime';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CommitPipeline, CommitRefusedError, CommitUnavailableError } from '../src/shell/commit-pipeline.ts';
import { createSchedulerMetrics } from '../src/shell/metrics.ts';
import type { ReconnectSignal } from '../src/shell/reconnects.ts';
import { ReconnectedError } from '../src/shell/reconnects.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib']);
const subjects = subjectsFor('t');
const log = createLogger('test', 'silent');

function txn(id: string, claims = 1): Transaction {
  return {
    id, schedulerId: 's', kind: 'incremental',
    claims: Array.from({ length: claims }, (_, i) => ({ taskId: `${id}/t/${i}`, jobId: id, nodeId: 'n1', demand: Float64Array.of(1, 1), seenVersion: 0 })),
  };
}

type Answer = (req: CommitRequest) => unknown;

/** A connection whose `request` is answered by hand: `pending` holds the requests not yet answered. */
function fakeConnection() {
  const sent: CommitRequest[] = [];
  const timeouts: number[] = [];
  const pending: { req: CommitRequest; answer: (a: Answer | Error) => void }[] = [];
  const nc = {
    request(_subject: string, data: Uint8Array, opts: { timeout: number }) {
      const req = decodeRaw(data) as CommitRequest;
      sent.push(req);
      timeouts.push(opts.timeout);
      return new Promise((resolve, reject) => {
        pending.push({
          req,
          answer: (a) => (a instanceof Error ? reject(a) : resolve({ data: encode(a(req)) })),
        });
      });
    },
  } as unknown as NatsConnection;
  return { nc, sent, pending, timeouts };
}

/** A reconnect signal the test fires by hand (what ReconnectWatch does on a NATS reconnect). */
function fakeReconnects(): ReconnectSignal & { fire(): void } {
  let ctl = new AbortController();
  return {
    get signal() { return ctl.signal; },
    fire() { const old = ctl; ctl = new AbortController(); old.abort(new ReconnectedError()); },
  };
}

function timeoutError(): Error {
  const e = new Error('timeout');
  e.name = 'TimeoutError';
  return e;
}

const commitAll: Answer = (req) => ({
  ok: true,
  results: req.txns.map((t) => ({ txnId: t.id, committed: t.claims.map((c) => c.taskId), rejected: [], nodes: [], seq: 1 })),
});

function pipeline(nc: NatsConnection, o: { inFlight?: number; maxClaims?: number; giveUpAfterMs?: number; maxTimeoutMs?: number; reconnects?: ReconnectSignal } = {}) {
  return new CommitPipeline({
    nc, subjects, space, log, metrics: createSchedulerMetrics(new Registry()),
    maxClaimsPerRequest: o.maxClaims ?? 1000, inFlight: o.inFlight ?? 1, timeoutMs: 1000, maxTimeoutMs: o.maxTimeoutMs,
    giveUpAfterMs: o.giveUpAfterMs, reconnects: o.reconnects,
  });
}

const tick = () => new Promise((r) => setImmediate(r));

async function until(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('CommitPipeline', () => {
  it('sends what is proposed in one turn together, and groups what queues up behind a busy request', async () => {
    const { nc, sent, pending } = fakeConnection();
    const p = pipeline(nc, { inFlight: 1 });
    const results: (TxnResult | Error)[] = [];
    p.propose(txn('a'), (r) => results.push(r));
    p.propose(txn('b'), (r) => results.push(r));
    await tick();
    expect(sent.map((r) => r.txns.map((t) => t.id))).toEqual([['a', 'b']]);

    for (const id of ['c', 'd', 'e']) p.propose(txn(id), (r) => results.push(r));
    await tick();
    expect(sent).toHaveLength(1); // the only slot is busy: c, d, e wait
    pending.shift()!.answer(commitAll);
    await tick();
    await tick();
    expect(sent.map((r) => r.txns.map((t) => t.id))).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    pending.shift()!.answer(commitAll);
    await tick();
    await tick();
    expect(results.map((r) => (r instanceof Error ? r.name : r.txnId))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(p.queued).toBe(0);
  });

  it('keeps at most inFlight requests out and caps claims per request without splitting a transaction', async () => {
    const { nc, sent } = fakeConnection();
    const p = pipeline(nc, { inFlight: 2, maxClaims: 10 });
    for (const [id, n] of [['a', 6], ['b', 6], ['c', 3], ['d', 20], ['e', 1]] as const) p.propose(txn(id, n), () => undefined);
    await tick();
    expect(sent.map((r) => r.txns.map((t) => t.id))).toEqual([['a'], ['b', 'c']]);
    expect(p.requestsInFlight).toBe(2);
    expect(p.queued).toBe(2);
  });

  it('resends the same request after a transient failure', async () => {
    const { nc, sent, pending } = fakeConnection();
    const p = pipeline(nc);
    let result: TxnResult | Error | undefined;
    p.propose(txn('a'), (r) => (result = r));
    await tick();
    pending.shift()!.answer(new Error('TIMEOUT'));
    await until(() => sent.length === 2);
    expect(sent[1]).toEqual(sent[0]); // same transaction ids: the committer's idempotency makes this safe
    pending.shift()!.answer(() => errorReply('unavailable', 'log down'));
    await until(() => sent.length === 3);
    pending.shift()!.answer(commitAll);
    await until(() => result !== undefined);
    expect(result).toMatchObject({ txnId: 'a', committed: ['a/t/0'] });
  });

  it('resends a timed-out request at once, each attempt waiting twice as long up to the cap', async () => {
    const { nc, sent, pending, timeouts } = fakeConnection();
    const p = pipeline(nc, { maxTimeoutMs: 5000 });
    let result: TxnResult | Error | undefined;
    p.propose(txn('a'), (r) => (result = r));
    await tick();
    for (let i = 1; i <= 4; i++) {
      const t0 = Date.now();
      pending.shift()!.answer(timeoutError());
      await until(() => sent.length === i + 1);
      expect(Date.now() - t0).toBeLessThan(500); // no backoff after a timeout: the attempt already waited
    }
    expect(timeouts).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(new Set(sent.map((r) => JSON.stringify(r))).size).toBe(1); // the same request every time
    pending.shift()!.answer(commitAll);
    await until(() => result !== undefined);
    expect(result).toMatchObject({ txnId: 'a', committed: ['a/t/0'] });
  });

  it('resends a request that was out when NATS reconnected at once, and ignores the abandoned attempt\'s late answer', async () => {
    const { nc, sent, pending } = fakeConnection();
    const reconnects = fakeReconnects();
    const p = pipeline(nc, { reconnects });
    const results: (TxnResult | Error)[] = [];
    p.propose(txn('a'), (r) => results.push(r));
    await tick();
    const lost = pending.shift()!;
    reconnects.fire();
    await until(() => sent.length === 2);
    expect(sent[1]).toEqual(sent[0]);
    lost.answer(commitAll); // the first attempt's answer after all: nobody waits for it any more
    await tick();
    expect(results).toEqual([]);
    pending.shift()!.answer(commitAll);
    await until(() => results.length === 1);
    await tick();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ txnId: 'a', committed: ['a/t/0'] });
  });

  it('fails the transactions of a refused request at once, and of a request that keeps failing in the end', async () => {
    const { nc, pending } = fakeConnection();
    const p = pipeline(nc, { giveUpAfterMs: 50 });
    let refused: TxnResult | Error | undefined;
    p.propose(txn('a'), (r) => (refused = r));
    await tick();
    pending.shift()!.answer(() => errorReply('invalid', 'bad claim', 'txns[0]'));
    await tick();
    await tick();
    expect(refused).toBeInstanceOf(CommitRefusedError);

    let lost: TxnResult | Error | undefined;
    p.propose(txn('b'), (r) => (lost = r));
    for (let i = 0; i < 200 && lost === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      pending.shift()?.answer(new Error('TIMEOUT'));
    }
    expect(lost).toBeInstanceOf(CommitUnavailableError);
  });

  it('fails a transaction the reply has no result for, and everything queued on stop', async () => {
    const { nc, pending } = fakeConnection();
    const p = pipeline(nc);
    const out: (TxnResult | Error)[] = [];
    p.propose(txn('a'), (r) => out.push(r));
    p.propose(txn('b'), (r) => out.push(r));
    await tick();
    pending.shift()!.answer((req) => ({ ok: true, results: [{ txnId: req.txns[1].id, committed: ['b/t/0'], rejected: [], nodes: [], seq: 3 }] }));
    await tick();
    await tick();
    expect(out[0]).toBeInstanceOf(CommitUnavailableError);
    expect(out[1]).toMatchObject({ txnId: 'b', seq: 3 });

    p.propose(txn('c'), () => undefined); // goes out
    await tick();
    let queued: TxnResult | Error | undefined;
    p.propose(txn('d'), (r) => (queued = r)); // waits for the busy slot
    p.stop();
    expect(queued).toBeInstanceOf(CommitUnavailableError);
  });
});
