import { describe, expect, it } from 'vitest';
import { chunkSyncRequests, MAX_PARTITIONS_PER_SYNC, mergeSyncRequests, roundsPerRequest } from '../src/core/sync-batching.ts';
import { MAX_TXNS_PER_COMMIT, nextBatchEnd } from '../src/core/commit-batching.ts';

describe('roundsPerRequest', () => {
  it.each([
    // interval, min tick, rounds
    [100, 10, 1],
    [10, 10, 1],
    [6.25, 10, 2],
    [1.5625, 10, 7],
    [0.1, 10, 100],
    [0, 10, 1],
  ])('rounds %s ms apart, requests ≥ %s ms apart → %s per request', (interval, tick, want) => {
    expect(roundsPerRequest(interval, tick)).toBe(want);
  });
});

describe('mergeSyncRequests', () => {
  it('keeps the first request of each partition, in order', () => {
    expect(mergeSyncRequests([[{ partition: 3, since: 5 }], [{ partition: 4, since: 1 }], [{ partition: 3, since: 9 }]])).toEqual([
      { partition: 3, since: 5 },
      { partition: 4, since: 1 },
    ]);
  });
  it('passes a single round through', () => {
    const round = [{ partition: 0, since: -1 }, { partition: 1, since: -1 }];
    expect(mergeSyncRequests([round])).toEqual(round);
  });
});

describe('chunkSyncRequests', () => {
  const reqs = (n: number) => Array.from({ length: n }, (_, p) => ({ partition: p, since: -1 }));
  it.each([
    // partitions, nodes per partition, max nodes, chunk sizes
    [10, 0, 5000, [10]],
    [10, 1000, 5000, [5, 5]],
    [10, 2000, 5000, [2, 2, 2, 2, 2]],
    [3, 100_000, 5000, [1, 1, 1]],
    [0, 10, 5000, []],
  ])('%s partitions of ~%s nodes, ≤ %s nodes per request', (n, per, max, sizes) => {
    const chunks = chunkSyncRequests(reqs(n), per, max);
    expect(chunks.map((c) => c.length)).toEqual(sizes);
    expect(chunks.flat().map((r) => r.partition)).toEqual(reqs(n).map((r) => r.partition));
  });
  it('never exceeds the wire limit on partitions per request', () => {
    const chunks = chunkSyncRequests(reqs(MAX_PARTITIONS_PER_SYNC + 5), 0, 5000);
    expect(chunks.map((c) => c.length)).toEqual([MAX_PARTITIONS_PER_SYNC, 5]);
  });
});

describe('nextBatchEnd', () => {
  it.each([
    // sizes, from, max txns, max claims, end
    [[1, 1, 1], 0, 10, 100, 3],
    [[1, 1, 1], 1, 10, 100, 3],
    [[1, 1, 1], 3, 10, 100, 3],
    [[1, 1, 1], 0, 2, 100, 2],
    [[60, 30, 20], 0, 10, 100, 2],
    [[200, 1], 0, 10, 100, 1], // a transaction is never split, even when larger than the cap
    [[5, 200, 1], 0, 10, 100, 1],
    [[5, 200, 1], 1, 10, 100, 2],
  ])('sizes %j from %i (≤ %i txns, ≤ %i claims) → end %i', (sizes, from, maxTxns, maxClaims, want) => {
    expect(nextBatchEnd(sizes, from, maxTxns, maxClaims)).toBe(want);
  });
  it('caps at the wire limit on transactions per request', () => {
    const sizes = new Array(MAX_TXNS_PER_COMMIT + 10).fill(1);
    expect(nextBatchEnd(sizes, 0, Infinity, Infinity)).toBe(MAX_TXNS_PER_COMMIT);
  });
});
