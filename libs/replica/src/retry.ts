/**
 * Retry policy: exponential backoff with jitter, as a pure function of the attempt number and a
 * seeded rng, and the two limits after which a job is given up as unschedulable.
 *
 * Two different waits, with two different budgets (Nomad and kube-scheduler distinguish them too):
 * - a *conflict* (the committer refused claims because the view was stale) is retried at most
 *   `maxConflictRetries` times: more retries than that means something is wrong with the view;
 * - *no room now* (placement found no feasible node, but one may free up) keeps the job waiting,
 *   polling with backoff, until `maxWaitMs` after submission.
 * Tasks that can never fit are not retried at all.
 */
import type { Rng } from '@tessera/policy';

export interface RetryPolicy {
  /** Retries after commit conflicts before giving up (Nomad: 5 for services, 2 for batch). */
  readonly maxConflictRetries: number;
  /** Give up on tasks that found no room when this long (ms) has passed since submission. */
  readonly maxWaitMs: number;
  /** Backoff before the first retry (ms). */
  readonly baseBackoffMs: number;
  /** Backoff never exceeds this (ms). */
  readonly maxBackoffMs: number;
  /**
   * Fraction of the backoff that is random, in [0, 1]: the delay is uniform in
   * [(1 − jitter)·b, b]. Spreads the retries of schedulers that collided so they do not collide again.
   */
  readonly jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxConflictRetries: 5,
  maxWaitMs: 60_000,
  baseBackoffMs: 10,
  maxBackoffMs: 1_000,
  jitter: 0.5,
});

export function checkRetryPolicy(p: RetryPolicy): void {
  if (!Number.isInteger(p.maxConflictRetries) || p.maxConflictRetries < 0) throw new RangeError(`maxConflictRetries must be an integer ≥ 0, got ${p.maxConflictRetries}`);
  if (!(p.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be ≥ 0, got ${p.maxWaitMs}`);
  if (!(p.baseBackoffMs >= 0) || !Number.isFinite(p.baseBackoffMs)) throw new RangeError(`baseBackoffMs must be a finite number ≥ 0, got ${p.baseBackoffMs}`);
  if (!(p.maxBackoffMs >= p.baseBackoffMs) || !Number.isFinite(p.maxBackoffMs)) throw new RangeError(`maxBackoffMs must be finite and ≥ baseBackoffMs, got ${p.maxBackoffMs}`);
  if (!(p.jitter >= 0 && p.jitter <= 1)) throw new RangeError(`jitter must be in [0, 1], got ${p.jitter}`);
}

/**
 * Backoff before retry number `retry` (1 = first retry): min(max, base·2^(retry−1)), of which
 * the `jitter` fraction is drawn from `rng`. Consumes exactly one draw when jitter > 0.
 */
export function backoffMs(retry: number, rng: Rng, policy: RetryPolicy): number {
  const exp = Math.min(Math.max(retry, 1) - 1, 52);
  const b = Math.min(policy.maxBackoffMs, policy.baseBackoffMs * 2 ** exp);
  if (policy.jitter === 0) return b;
  return b * (1 - policy.jitter * rng.next());
}
