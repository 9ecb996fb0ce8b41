import { describe, expect, it } from 'vitest';
import { createRng } from '@tessera/policy';
import { backoffMs, checkRetryPolicy, conflictBudgetSpent, DEFAULT_RETRY_POLICY, parseTxnKey, retryBackoffMs, txnKey, type RetryPolicy } from '../src/index.ts';

const exact: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseBackoffMs: 10, maxBackoffMs: 1000, jitter: 0 };

describe('backoffMs', () => {
  it.each([
    { retry: 0, want: 10 },
    { retry: 1, want: 10 },
    { retry: 2, want: 20 },
    { retry: 3, want: 40 },
    { retry: 7, want: 640 },
    { retry: 8, want: 1000 },
    { retry: 500, want: 1000 },
  ])('without jitter, retry $retry waits $want ms', ({ retry, want }) => {
    expect(backoffMs(retry, createRng(1), exact)).toBe(want);
  });

  it('with jitter, stays in [(1 − jitter)·b, b] and is a pure function of the rng', () => {
    const p = { ...exact, jitter: 0.5 };
    const a = createRng('x');
    const b = createRng('x');
    for (let retry = 1; retry < 12; retry++) {
      const cap = Math.min(1000, 10 * 2 ** (retry - 1));
      const d = backoffMs(retry, a, p);
      expect(d).toBeGreaterThanOrEqual(cap / 2);
      expect(d).toBeLessThanOrEqual(cap);
      expect(backoffMs(retry, b, p)).toBe(d);
    }
  });

  it.each([
    { field: 'maxConflictRetries', value: -1 },
    { field: 'maxConflictRetries', value: 1.5 },
    { field: 'jitter', value: 2 },
    { field: 'baseBackoffMs', value: -5 },
    { field: 'maxBackoffMs', value: 1 },
    { field: 'maxWaitMs', value: Number.NaN },
    { field: 'conflictWindowMs', value: -1 },
    { field: 'maxConflictBackoffMs', value: Infinity },
  ])('refuses $field = $value', ({ field, value }) => {
    expect(() => checkRetryPolicy({ ...exact, [field]: value })).toThrow(RangeError);
  });
});

describe('retryBackoffMs and the conflict budget', () => {
  const p: RetryPolicy = { ...exact, maxConflictRetries: 5, maxConflictBackoffMs: 4000, conflictWindowMs: 15_000 };

  it.each([
    { failedRounds: 1, refusals: 0, want: 10 }, // no room: backoffMs
    { failedRounds: 9, refusals: 0, want: 1000 },
    { failedRounds: 1, refusals: 1, want: 10 }, // ordinary conflicts: unchanged, fast
    { failedRounds: 3, refusals: 5, want: 40 },
    { failedRounds: 1, refusals: 6, want: 1000 }, // past the count: from maxBackoffMs, doubling
    { failedRounds: 1, refusals: 7, want: 2000 },
    { failedRounds: 1, refusals: 8, want: 4000 },
    { failedRounds: 12, refusals: 50, want: 4000 },
  ])('failedRounds $failedRounds, refusals $refusals → $want ms', ({ failedRounds, refusals, want }) => {
    expect(retryBackoffMs(failedRounds, refusals, createRng(1), p)).toBe(want);
  });

  it('a cap below maxBackoffMs counts as maxBackoffMs', () => {
    expect(retryBackoffMs(1, 9, createRng(1), { ...p, maxConflictBackoffMs: 0 })).toBe(1000);
  });

  it.each([
    { refusals: 6, first: 0, now: 300, want: false }, // a burst: count spent, window not
    { refusals: 5, first: 0, now: 60_000, want: false }, // window passed, count not
    { refusals: 6, first: 0, now: 15_000, want: true },
    { refusals: 1, first: 0, now: 0, want: true, window: 0, max: 0 },
  ])('spent($refusals refusals, first at $first, now $now) = $want', ({ refusals, first, now, want, window, max }) => {
    expect(conflictBudgetSpent(refusals, first, now, { ...p, conflictWindowMs: window ?? p.conflictWindowMs, maxConflictRetries: max ?? p.maxConflictRetries })).toBe(want);
  });

  it('with the defaults, a task refused on every round is retried over ≥ 15 s, a bounded number of times', () => {
    for (const seed of [1, 2, 3, 'x']) {
      const rng = createRng(seed);
      let now = 0;
      let refusals = 0;
      let failedRounds = 0;
      for (;;) {
        refusals++;
        failedRounds++;
        if (conflictBudgetSpent(refusals, 0, now, DEFAULT_RETRY_POLICY)) break;
        now += retryBackoffMs(failedRounds, refusals, rng, DEFAULT_RETRY_POLICY);
      }
      expect(now).toBeGreaterThanOrEqual(15_000);
      expect(now).toBeLessThan(15_000 + DEFAULT_RETRY_POLICY.maxConflictBackoffMs);
      expect(refusals).toBeLessThanOrEqual(20);
      // The first few retries stay quick: an ordinary conflict costs milliseconds.
      expect(retryBackoffMs(1, 1, rng, DEFAULT_RETRY_POLICY)).toBeLessThanOrEqual(DEFAULT_RETRY_POLICY.baseBackoffMs);
    }
  });
});

describe('txnKey', () => {
  it.each([
    { s: 's0', job: 'etl-42', attempt: 1, chunk: 0, want: 's0:etl-42:1:0' },
    { s: 'sched-3', job: 'a:b:c', attempt: 12, chunk: 3, want: 'sched-3:a:b:c:12:3' },
  ])('($s, $job, $attempt, $chunk) → $want and back', ({ s, job, attempt, chunk, want }) => {
    expect(txnKey(s, job, attempt, chunk)).toBe(want);
    expect(parseTxnKey(want)).toEqual({ schedulerId: s, jobId: job, attempt, chunk });
  });

  it.each(['', 'nocolons', 'a:b', 'a:b:x:1'])('parseTxnKey(%j) is undefined', (k) => {
    expect(parseTxnKey(k)).toBeUndefined();
  });
});
