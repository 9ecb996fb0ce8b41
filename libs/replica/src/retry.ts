/**
 * Retry policy: exponential backoff with jitter, as a pure function of the attempt number and a
 * seeded rng, and the two limits after which a job is given up as unschedulable.
 *
 * Two different waits, with two different budgets (Nomad and kube-scheduler distinguish them too):
 * - a *conflict* (the committer refused claims because the view was stale) is retried until the
 *   task was refused more than `maxConflictRetries` times *and* `conflictWindowMs` passed since its
 *   first refusal. The count alone would be spent in a few hundred ms by a burst of refusals on a
 *   view that is briefly stale for everyone (after a NATS restart, while nodes re-register); the
 *   window makes the budget span real time, and past the count the backoff keeps growing (up to
 *   `maxConflictBackoffMs`) so such a task is retried a few times over the window, not hundreds;
 * - *no room now* (placement found no feasible node, but one may free up) keeps the job waiting,
 *   polling with backoff, until `maxWaitMs` after submission.
 * Tasks that can never fit are not retried at all. Transport failures (timeouts, no responders, an
 * unavailable or deposed committer) are not answers: they never reach the replica and never count.
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
  /**
   * Conflicts give a task up only once this long (ms) has passed since its first refusal, however
   * many refusals came before (and only after more than `maxConflictRetries`). 0: the count alone.
   */
  readonly conflictWindowMs: number;
  /**
   * Backoff cap (ms) for a task refused more than `maxConflictRetries` times and still inside its
   * conflict window: from `maxBackoffMs` the backoff doubles per further refusal up to this (a cap
   * below `maxBackoffMs` counts as `maxBackoffMs`).
   */
  readonly maxConflictBackoffMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxConflictRetries: 5,
  maxWaitMs: 60_000,
  baseBackoffMs: 10,
  maxBackoffMs: 1_000,
  jitter: 0.5,
  conflictWindowMs: 15_000,
  maxConflictBackoffMs: 4_000,
});

export function checkRetryPolicy(p: RetryPolicy): void {
  if (!Number.isInteger(p.maxConflictRetries) || p.maxConflictRetries < 0) throw new RangeError(`maxConflictRetries must be an integer ≥ 0, got ${p.maxConflictRetries}`);
  if (!(p.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be ≥ 0, got ${p.maxWaitMs}`);
  if (!(p.baseBackoffMs >= 0) || !Number.isFinite(p.baseBackoffMs)) throw new RangeError(`baseBackoffMs must be a finite number ≥ 0, got ${p.baseBackoffMs}`);
  if (!(p.maxBackoffMs >= p.baseBackoffMs) || !Number.isFinite(p.maxBackoffMs)) throw new RangeError(`maxBackoffMs must be finite and ≥ baseBackoffMs, got ${p.maxBackoffMs}`);
  if (!(p.jitter >= 0 && p.jitter <= 1)) throw new RangeError(`jitter must be in [0, 1], got ${p.jitter}`);
  if (!(p.conflictWindowMs >= 0)) throw new RangeError(`conflictWindowMs must be ≥ 0, got ${p.conflictWindowMs}`);
  if (!(p.maxConflictBackoffMs >= 0) || !Number.isFinite(p.maxConflictBackoffMs)) throw new RangeError(`maxConflictBackoffMs must be a finite number ≥ 0, got ${p.maxConflictBackoffMs}`);
}

/**
 * Backoff before retry number `retry` (1 = first retry): min(max, base·2^(retry−1)), of which
 * the `jitter` fraction is drawn from `rng`. Consumes exactly one draw when jitter > 0.
 */
export function backoffMs(retry: number, rng: Rng, policy: RetryPolicy): number {
  return jittered(rawBackoffMs(retry, policy.baseBackoffMs, policy.maxBackoffMs), rng, policy);
}

/**
 * Backoff before the next round of a job whose last `failedRounds` rounds in a row failed and
 * whose most refused task of the last round has been refused `refusals` times in all (0: no
 * conflict). Up to `maxConflictRetries` refusals this is {@link backoffMs}(failedRounds): ordinary
 * conflicts on a ParSync view are retried at once on the refreshed view. Past that count (the task
 * is only still going because its conflict window has not passed) the wait doubles from
 * `maxBackoffMs` per further refusal up to `maxConflictBackoffMs`, whichever is longer.
 * Consumes exactly one draw when jitter > 0.
 */
export function retryBackoffMs(failedRounds: number, refusals: number, rng: Rng, policy: RetryPolicy): number {
  let b = rawBackoffMs(failedRounds, policy.baseBackoffMs, policy.maxBackoffMs);
  const past = refusals - policy.maxConflictRetries;
  if (past > 0) b = Math.max(b, rawBackoffMs(past, policy.maxBackoffMs, Math.max(policy.maxBackoffMs, policy.maxConflictBackoffMs)));
  return jittered(b, rng, policy);
}

/** Whether a task refused `refusals` times, the first at `firstRefusedAt`, is out of conflict retries at `now`. */
export function conflictBudgetSpent(refusals: number, firstRefusedAt: number, now: number, policy: RetryPolicy): boolean {
  return refusals > policy.maxConflictRetries && now - firstRefusedAt >= policy.conflictWindowMs;
}

/** min(max, base·2^(retry−1)), retry counted from 1. */
function rawBackoffMs(retry: number, base: number, max: number): number {
  const exp = Math.min(Math.max(retry, 1) - 1, 52);
  return Math.min(max, base * 2 ** exp);
}

function jittered(b: number, rng: Rng, policy: RetryPolicy): number {
  if (policy.jitter === 0) return b;
  return b * (1 - policy.jitter * rng.next());
}
