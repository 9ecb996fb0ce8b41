import { describe, expect, it } from 'vitest';
import type { PlacementMode } from '@tessera/policy';
import { partitionsForRound, syncRoundIntervalMs } from '../src/index.ts';
import { makeCell, makeReplica } from './helpers.ts';

describe('partitionsForRound', () => {
  it.each([
    // N, P, scheduler, first rounds
    { n: 2, p: 4, i: 0, rounds: [0, 1, 2, 3, 0] },
    { n: 2, p: 4, i: 1, rounds: [2, 3, 0, 1, 2] },
    { n: 4, p: 8, i: 3, rounds: [6, 7, 0, 1, 2] },
    { n: 3, p: 8, i: 1, rounds: [2, 3, 4, 5, 6] },
    { n: 1, p: 3, i: 0, rounds: [0, 1, 2, 0, 1] },
  ])('ParSync: scheduler $i of $n over $p partitions syncs $rounds', ({ n, p, i, rounds }) => {
    const got = rounds.map((_, k) => partitionsForRound({ schedulerIndex: i, schedulers: n, partitions: p }, 'latency-first', k));
    expect(got).toEqual(rounds.map((x) => [x]));
  });

  it.each([
    { n: 2, p: 4 }, { n: 4, p: 8 }, { n: 8, p: 16 }, { n: 8, p: 8 }, { n: 3, p: 10 }, { n: 16, p: 32 },
  ])('staggered: with $n schedulers over $p partitions no two sync the same partition in a round, and each covers all in P rounds', ({ n, p }) => {
    for (const mode of ['latency-first', 'quality-first', 'adaptive'] as PlacementMode[]) {
      for (let k = 0; k < 2 * p; k++) {
        const now = new Set<number>();
        for (let i = 0; i < n; i++) now.add(partitionsForRound({ schedulerIndex: i, schedulers: n, partitions: p }, mode, k)[0]);
        expect(now.size).toBe(n);
      }
      for (let i = 0; i < n; i++) {
        const seen = new Set<number>();
        for (let k = 0; k < p; k++) seen.add(partitionsForRound({ schedulerIndex: i, schedulers: n, partitions: p }, mode, k)[0]);
        expect(seen.size).toBe(p);
      }
    }
  });

  it('state-sync fetches every partition every round', () => {
    for (let k = 0; k < 3; k++) expect(partitionsForRound({ schedulerIndex: 1, schedulers: 2, partitions: 5 }, 'state-sync', k)).toEqual([0, 1, 2, 3, 4]);
  });

  it.each([
    { mode: 'state-sync', g: 1000, p: 8, want: 1000 },
    { mode: 'latency-first', g: 1000, p: 8, want: 125 },
    { mode: 'quality-first', g: 800, p: 16, want: 50 },
    { mode: 'adaptive', g: 100, p: 4, want: 25 },
  ] as { mode: PlacementMode; g: number; p: number; want: number }[])('round interval in $mode with G=$g, P=$p is $want ms', ({ mode, g, p, want }) => {
    expect(syncRoundIntervalMs(mode, g, p)).toBe(want);
  });
});

describe('SchedulerReplica sync rounds', () => {
  it('asks for each partition since the version its view holds, and advances the round', () => {
    const fx = makeCell([1000, 1000, 1000, 1000, 1000, 1000], 3);
    const r = makeReplica(fx, { schedulerIndex: 1, schedulers: 3 });
    expect(r.syncRound).toBe(0);
    const first = r.nextSyncRound();
    expect(first).toEqual([{ partition: 1, since: fx.cell.partitionVersion(1) }]);
    expect(r.nextSyncRound().map((x) => x.partition)).toEqual([2]);
    expect(r.syncRound).toBe(2);
    expect(r.syncRoundIntervalMs()).toBeCloseTo(1000 / 3);
    r.setMode('state-sync');
    expect(r.nextSyncRound().map((x) => x.partition)).toEqual([0, 1, 2]);
    expect(r.syncRoundIntervalMs()).toBe(1000);
  });

  it('a fresh replica bootstraps every partition from scratch', () => {
    const fx = makeCell([1000, 1000], 4);
    const r = makeReplica(fx);
    expect(r.bootstrapRequests()).toEqual([0, 1, 2, 3].map((partition) => ({ partition, since: -1 })));
    expect(r.view.nodeCount).toBe(2);
  });
});
