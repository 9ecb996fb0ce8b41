import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a, homePartitions, partitionForRound, partitionOf } from '../src/index.ts';

describe('partitionOf', () => {
  it('matches FNV-1a reference values (the assignment must never change between releases)', () => {
    // Reference 32-bit FNV-1a hashes.
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('is stable and in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1024 }), (id, p) => {
        const a = partitionOf(id, p);
        expect(a).toBe(partitionOf(id, p));
        expect(Number.isInteger(a) && a >= 0 && a < p).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('spreads node ids over the partitions', () => {
    const P = 8;
    const counts = new Array(P).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`node-${i}`, P)]++;
    for (const c of counts) expect(c).toBeGreaterThan(700);
  });
});

describe('partitionForRound', () => {
  it('starts N schedulers on different partitions and has each visit all P in P rounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: n, max: 64 }))),
        ([N, P]) => {
          const starts = Array.from({ length: N }, (_, i) => partitionForRound(i, N, P, 0));
          expect(new Set(starts).size).toBe(N);
          for (let i = 0; i < N; i++) {
            const visited = Array.from({ length: P }, (_, k) => partitionForRound(i, N, P, k));
            expect(new Set(visited).size).toBe(P);
            for (const p of visited) expect(p >= 0 && p < P).toBe(true);
            // Round-robin: the next round is the next partition.
            expect(partitionForRound(i, N, P, P)).toBe(visited[0]);
          }
          // Staggered: at every round the N schedulers still hold N different partitions.
          for (let k = 0; k < P; k++) {
            expect(new Set(Array.from({ length: N }, (_, i) => partitionForRound(i, N, P, k))).size).toBe(N);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    [0, 4, 8, 0, 0],
    [1, 4, 8, 0, 2],
    [3, 4, 8, 0, 6],
    [3, 4, 8, 3, 1],
    [1, 3, 10, 0, 3],
    [2, 3, 10, 0, 6],
    [0, 1, 5, 7, 2],
  ])('scheduler %i of %i over %i partitions, round %i → %i', (i, n, p, k, expected) => {
    expect(partitionForRound(i, n, p, k)).toBe(expected);
  });
});

describe('homePartitions', () => {
  it('gives N schedulers disjoint blocks covering all P partitions, each starting at its round-robin start', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: n, max: 64 }))),
        ([N, P]) => {
          const owners = new Array<number>(P).fill(0);
          for (let i = 0; i < N; i++) {
            const home = homePartitions(i, N, P);
            expect(home).toHaveLength(P);
            const mine = home.flatMap((h, p) => (h ? [p] : []));
            expect(mine.length).toBeGreaterThanOrEqual(Math.floor(P / N));
            expect(mine.length).toBeLessThanOrEqual(Math.ceil(P / N));
            expect(mine[0]).toBe(partitionForRound(i, N, P, 0));
            // One contiguous block.
            expect(mine[mine.length - 1] - mine[0]).toBe(mine.length - 1);
            for (const p of mine) owners[p]++;
          }
          expect(owners.every((c) => c === 1)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    [0, 4, 8, [0, 1]],
    [3, 4, 8, [6, 7]],
    [1, 3, 10, [3, 4, 5]],
    [2, 3, 10, [6, 7, 8, 9]],
    [0, 1, 3, [0, 1, 2]],
  ])('scheduler %i of %i over %i partitions → %j', (i, n, p, expected) => {
    expect(homePartitions(i, n, p).flatMap((h, k) => (h ? [k] : []))).toEqual(expected);
  });

  it('refuses an index outside [0, N) and non-integer counts', () => {
    expect(() => homePartitions(4, 4, 8)).toThrow(RangeError);
    expect(() => homePartitions(-1, 4, 8)).toThrow(RangeError);
    expect(() => homePartitions(0, 0, 8)).toThrow(RangeError);
    expect(() => homePartitions(0, 2, 1.5)).toThrow(RangeError);
  });
});
