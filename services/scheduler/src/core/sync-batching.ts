/**
 * How the sync loop turns the replica's sync rounds (libs/replica decides *which* partitions and
 * how often) into requests on the bus:
 * - ParSync rounds are G/P apart; at P = 64 and G = 100 ms that is one request every 1.6 ms.
 *   Below `minTickMs` the loop fetches several consecutive rounds in one request instead, which
 *   keeps the per-partition refresh period (G) while bounding the request rate.
 * - A request never carries more than about `maxNodes` nodes (snapshots of all partitions at
 *   start, or a state-sync round, of a large cell would exceed the bus's message size).
 */
import type { SyncRequest } from '@tessera/replica';

/** The wire limit on partitions per sync request (protocol's syncRequest.requests). */
export const MAX_PARTITIONS_PER_SYNC = 4096;

/** Rounds to fetch per request so that requests are at least `minTickMs` apart. */
export function roundsPerRequest(roundIntervalMs: number, minTickMs: number): number {
  if (!(roundIntervalMs > 0)) return 1;
  return Math.max(1, Math.ceil(minTickMs / roundIntervalMs - 1e-9));
}

/** Concatenates rounds, keeping the first request of each partition. */
export function mergeSyncRequests(rounds: readonly (readonly SyncRequest[])[]): SyncRequest[] {
  if (rounds.length === 1) return [...rounds[0]];
  const seen = new Set<number>();
  const out: SyncRequest[] = [];
  for (const round of rounds) {
    for (const r of round) {
      if (seen.has(r.partition)) continue;
      seen.add(r.partition);
      out.push(r);
    }
  }
  return out;
}

/**
 * Splits requests into chunks of at most ⌊maxNodes / nodesPerPartition⌋ partitions (at least one,
 * at most the wire limit). `nodesPerPartition` is an estimate (0 when unknown: one chunk).
 */
export function chunkSyncRequests(requests: readonly SyncRequest[], nodesPerPartition: number, maxNodes: number): SyncRequest[][] {
  const per = nodesPerPartition > 0 ? Math.floor(maxNodes / nodesPerPartition) : MAX_PARTITIONS_PER_SYNC;
  const size = Math.min(MAX_PARTITIONS_PER_SYNC, Math.max(1, per));
  const out: SyncRequest[][] = [];
  for (let i = 0; i < requests.length; i += size) out.push(requests.slice(i, i + size));
  return out;
}
