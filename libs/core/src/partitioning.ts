/** Stable assignment of nodes to partitions: FNV-1a hash of the node id, mod P. */

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function partitionOf(nodeId: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be an integer ≥ 1, got ${partitions}`);
  return fnv1a(nodeId) % partitions;
}

/**
 * ParSync's staggered round-robin: scheduler i of N syncs partition (i·P/N + k) mod P in its
 * k-th round, so at any moment different schedulers hold different partitions fresh.
 */
export function partitionForRound(schedulerIndex: number, schedulers: number, partitions: number, round: number): number {
  const offset = Math.floor((schedulerIndex * partitions) / Math.max(1, schedulers));
  return (offset + round) % partitions;
}
