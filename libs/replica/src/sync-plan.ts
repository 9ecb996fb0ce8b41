/**
 * Which partitions a replica fetches in each sync round, and how often rounds happen.
 *
 * `syncIntervalMs` (G) is the period at which *every* partition of a replica's view is refreshed,
 * whatever the mode, so all modes pay the same sync cost and differ only in how it is spread:
 * - state-sync (Omega): one round every G fetches all P partitions at once; every partition's
 *   staleness runs from 0 up to G, the same for the whole view.
 * - ParSync (latency-first, quality-first, adaptive): one round every G/P fetches one partition,
 *   (i·P/N + k) mod P in round k (core's `partitionForRound`), so at any moment scheduler i holds
 *   a different partition fresh than scheduler j, and its freshest partition is ≤ G/P old.
 */
import { partitionForRound } from '@tessera/core';
import type { PlacementMode } from '@tessera/policy';

export interface SyncTopology {
  /** This replica's index in [0, schedulers). */
  readonly schedulerIndex: number;
  readonly schedulers: number;
  readonly partitions: number;
}

/** True when the mode syncs the whole state each round (the Omega baseline). */
export function syncsAllPartitions(mode: PlacementMode): boolean {
  return mode === 'state-sync';
}

/** Partitions to fetch in round `round` (ascending for state-sync, one for ParSync modes). */
export function partitionsForRound(topology: SyncTopology, mode: PlacementMode, round: number): number[] {
  const { schedulerIndex, schedulers, partitions } = topology;
  if (syncsAllPartitions(mode)) {
    const all = new Array<number>(partitions);
    for (let p = 0; p < partitions; p++) all[p] = p;
    return all;
  }
  return [partitionForRound(schedulerIndex, schedulers, partitions, round)];
}

/** Time between two sync rounds: G for state-sync, G/P for the ParSync modes. */
export function syncRoundIntervalMs(mode: PlacementMode, syncIntervalMs: number, partitions: number): number {
  return syncsAllPartitions(mode) ? syncIntervalMs : syncIntervalMs / partitions;
}

/** Validates a topology; throws RangeError (configuration fault). */
export function checkTopology(t: SyncTopology): void {
  if (!Number.isInteger(t.schedulers) || t.schedulers < 1) throw new RangeError(`schedulers must be an integer ≥ 1, got ${t.schedulers}`);
  if (!Number.isInteger(t.partitions) || t.partitions < 1) throw new RangeError(`partitions must be an integer ≥ 1, got ${t.partitions}`);
  if (!Number.isInteger(t.schedulerIndex) || t.schedulerIndex < 0 || t.schedulerIndex >= t.schedulers) {
    throw new RangeError(`schedulerIndex must be an integer in [0, ${t.schedulers}), got ${t.schedulerIndex}`);
  }
}
