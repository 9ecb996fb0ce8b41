/**
 * Group proposals: every transaction that is ready while earlier commit requests are still out
 * goes into the next request, up to the wire limits. This is the throughput lever: one request
 * (one round trip, one group commit on the committer) for many jobs' transactions.
 */

/** The wire limit on transactions per commit request (protocol's commitRequest.txns). */
export const MAX_TXNS_PER_COMMIT = 4096;

/**
 * How many of `sizes[from…]` (claims per transaction, in queue order) go into the next request:
 * at least one (a transaction is never split), then as many as fit `maxTxns` and `maxClaims`.
 */
export function nextBatchEnd(sizes: ArrayLike<number>, from: number, maxTxns: number, maxClaims: number): number {
  if (from >= sizes.length) return from;
  let claims = sizes[from];
  let end = from + 1;
  const limit = Math.min(sizes.length, from + Math.max(1, Math.min(maxTxns, MAX_TXNS_PER_COMMIT)));
  while (end < limit && claims + sizes[end] <= maxClaims) claims += sizes[end++];
  return end;
}
