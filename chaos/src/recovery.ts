/**
 * Recovery time after a kill, defined (docs/operations.md repeats it):
 *
 *   recovery = max(first commit after the kill, first `queryJobs` answered after the kill) − kill
 *
 * - "first commit after the kill": the first commit-log entry with at least one committed claim
 *   whose `at` (the writer's clock when it decided the batch; same host as the driver) is later
 *   than the kill. Taken from the stored log at the end of the run, so only durable commits count.
 * - "first queryJobs answered": the driver asks cell-state for a one-item job listing every
 *   250 ms (1 s timeout); the send time of the first answered request sent after the kill.
 * Both together: the cell takes placements again and serves its users again. A kill that the
 * cell rides through (a scheduler among three, one agent of two) recovers in about one commit
 * interval; the killed process's own restart time is reported apart (`restart_s`).
 * Pure.
 */

/** Index of the first element > x in an ascending array (its length if none). */
export function firstAfter(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export interface Recovery {
  readonly commitAt?: number;
  readonly queryAt?: number;
  /** Undefined when the cell never committed or never answered after the kill. */
  readonly recoveryMs?: number;
}

/** `commitTimes` need not be sorted (writers' clocks); `queryOks` ascending. */
export function recoveryAfter(killAt: number, commitTimes: readonly number[], queryOks: readonly number[]): Recovery {
  let commitAt: number | undefined;
  for (const t of commitTimes) if (t > killAt && (commitAt === undefined || t < commitAt)) commitAt = t;
  const qi = firstAfter(queryOks, killAt);
  const queryAt = qi < queryOks.length ? queryOks[qi] : undefined;
  if (commitAt === undefined || queryAt === undefined) return { commitAt, queryAt };
  return { commitAt, queryAt, recoveryMs: Math.max(commitAt, queryAt) - killAt };
}

/** Nearest-rank quantile of a sample (undefined when empty). */
export function quantile(xs: readonly number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
