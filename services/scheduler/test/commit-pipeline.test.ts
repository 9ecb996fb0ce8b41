/**
 * The commit pipeline against a fake committer on a fake connection: proposals made while
 * requests are out are grouped into the next request, at most `inFlight` requests are out,
 * transient failures resend the same request, refusals fail its transactions.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ResourceSpace, type Transaction, type TxnResult } from '@tessera/core';
import { decodeRaw, encode, errorReply, subjectsFor, type CommitRequest } from '@tessera/protocol';
import { createLogger } from '@tessera/runtime';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CommitPipeline, CommitRefusedError, CommitUnavailableError } from '../src/shell/commit-pipeline.ts';
import { createSchedulerMetrics } from '../src/shell/metrics.ts';

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
  const pending: { req: CommitRequest; answer: (a: Answer | Error) => void }[] = [];
  const nc = {
    request(_subject: string, data: Uint8Array) {
      const req = decodeRaw(data) as CommitRequest;
      sent.push(req);
      return new Promise((resolve, reject) => {
        pending.push({
          req,
          answer: (a) => (a instanceof Error ? reject(a) : resolve({ data: encode(a(req)) })),
        });
      });
    },
  } as unknown as NatsConnection;
  return { nc, sent, pending };
}

const commitAll: Answer = (req) => ({
  ok: true,
  results: req.txns.map((t) => ({ txnId: t.id, committed: t.claims.map((c) => c.taskId), rejected: [], nodes: [], seq: 1 })),
});

function pipeline(nc: NatsConnection, o: { inFlight?: number; maxClaims?: number; giveUpAfterMs?: number } = {}) {
  return new CommitPipeline({
    nc, subjects, space, log, metrics: createSchedulerMetrics(new Registry()),
    maxClaimsPerRequest: o.maxClaims ?? 1000, inFlight: o.inFlight ?? 1, timeoutMs: 1000, giveUpAfterMs: o.giveUpAfterMs,
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
