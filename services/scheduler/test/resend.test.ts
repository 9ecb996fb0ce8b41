import { describe, expect, it } from 'vitest';
import { attemptTimeoutMs, resendDelayMs } from '../src/core/resend.ts';

describe('attemptTimeoutMs', () => {
  const p = { attemptTimeoutMs: 2000, maxAttemptTimeoutMs: 10_000 };
  it.each([
    [0, 2000], [1, 2000], [2, 4000], [3, 8000], [4, 10_000], [100, 10_000],
  ])('attempt %i waits %i ms', (attempt, want) => {
    expect(attemptTimeoutMs(attempt, p)).toBe(want);
  });
  it('a cap below the first attempt counts as the first attempt', () => {
    expect(attemptTimeoutMs(3, { attemptTimeoutMs: 2000, maxAttemptTimeoutMs: 500 })).toBe(2000);
  });
});

describe('resendDelayMs', () => {
  it.each([
    ['timeout', 1, 0], ['timeout', 9, 0], // the attempt already waited
    ['reconnected', 1, 0], ['reconnected', 3, 0], // a fresh connection: resend at once
    ['refused', 1, 50], ['refused', 2, 100], ['refused', 5, 800], ['refused', 6, 1000], ['refused', 50, 1000],
  ] as const)('%s, failure %i → %i ms', (failure, failures, want) => {
    expect(resendDelayMs(failure, failures)).toBe(want);
  });
});
