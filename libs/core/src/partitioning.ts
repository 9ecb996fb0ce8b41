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

/**
 * Scheduler i's home partitions: the block [⌊i·P/N⌋, ⌊(i+1)·P/N⌋), which starts where its
 * round-robin starts. The blocks of N schedulers are disjoint and cover all P partitions, so
 * replicas that place in their own block first stay out of each other's way until it is full.
 */
export function homePartitions(schedulerIndex: number, schedulers: number, partitions: number): boolean[] {
  if (!Number.isInteger(schedulers) || schedulers < 1) throw new RangeError(`schedulers must be an integer ≥ 1, got ${schedulers}`);
  if (!Number.isInteger(schedulerIndex) || schedulerIndex < 0 || schedulerIndex >= schedulers) throw new RangeError(`schedulerIndex must be an integer in [0, ${schedulers}), got ${schedulerIndex}`);
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be an integer ≥ 1, got ${partitions}`);
  const from = Math.floor((schedulerIndex * partitions) / schedulers);
  const to = Math.floor(((schedulerIndex + 1) * partitions) / schedulers);
  const home = new Array<boolean>(partitions).fill(false);
  for (let p = from; p < to; p++) home[p] = true;
  return home;
}
