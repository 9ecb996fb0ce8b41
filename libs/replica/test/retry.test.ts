import { describe, expect, it } from 'vitest';
import { createRng } from '@tessera/policy';
import { backoffMs, checkRetryPolicy, DEFAULT_RETRY_POLICY, parseTxnKey, txnKey, type RetryPolicy } from '../src/index.ts';

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
  ])('refuses $field = $value', ({ field, value }) => {
    expect(() => checkRetryPolicy({ ...exact, [field]: value })).toThrow(RangeError);
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
