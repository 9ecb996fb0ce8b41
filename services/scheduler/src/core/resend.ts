/**
 * How long one attempt of a request to cell-state (commit, sync, job outcome) waits, and how soon
 * a failed one is sent again. Pure.
 *
 * A request sent just as its NATS server died, or to a cell-state leader that died, is simply
 * lost: nothing answers, and the sender only learns it at its timeout. Resending is safe (commit
 * transaction ids are idempotency keys, sync and outcome requests are idempotent by nature), so
 * one attempt waits a short `attemptTimeoutMs` (default 2 s, far above a healthy round trip), not
 * the whole budget. Each further attempt of the same request waits twice as long, up to
 * `maxAttemptTimeoutMs`, so a committer that is alive but slow (a big group commit under heavy
 * load) is not flooded with copies. The overall give-up stays with the caller (30 s for commits).
 */

export interface ResendPolicy {
  /** The first attempt's timeout (ms). */
  readonly attemptTimeoutMs: number;
  /** Attempt timeouts double per failure up to this (ms). */
  readonly maxAttemptTimeoutMs: number;
}

/** Timeout (ms) of attempt number `attempt` (1 = first): min(max, first·2^(attempt−1)). */
export function attemptTimeoutMs(attempt: number, p: ResendPolicy): number {
  const exp = Math.min(Math.max(attempt, 1) - 1, 30);
  return Math.max(1, Math.min(Math.max(p.maxAttemptTimeoutMs, p.attemptTimeoutMs), p.attemptTimeoutMs * 2 ** exp));
}

/**
 * How a failed attempt failed:
 * - `timeout`: no answer within the attempt timeout (the request or its answer was lost);
 * - `reconnected`: the NATS client reconnected while the attempt was out (the request most likely
 *   went down with the old connection);
 * - `refused`: a quick failure (no responders, `unavailable`, `not_leader`): the cell is there
 *   but not serving yet.
 */
export type AttemptFailure = 'timeout' | 'reconnected' | 'refused';

/**
 * Wait (ms) before resending after the `failures`-th failure in a row: none after a timeout (the
 * attempt already waited) or a reconnect (the connection is fresh: resend at once); backoff from
 * 50 ms to 1 s after quick refusals, so a cell that is coming up is polled, not hammered.
 */
export function resendDelayMs(failure: AttemptFailure, failures: number): number {
  if (failure !== 'refused') return 0;
  return Math.min(1_000, 25 * 2 ** Math.min(Math.max(failures, 1), 6));
}
