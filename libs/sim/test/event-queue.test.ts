import { describe, expect, it } from 'vitest';
import { createRng } from '@tessera/policy';
import { EventQueue, Samples } from '../src/index.ts';

describe('EventQueue', () => {
  it('pops by time, and in insertion order among equal times', () => {
    const q = new EventQueue<string>();
    const pushes: [number, string][] = [[5, 'a'], [1, 'b'], [5, 'c'], [0, 'd'], [1, 'e'], [5, 'f']];
    for (const [t, x] of pushes) q.push(t, x);
    const out: string[] = [];
    while (q.size > 0) out.push(`${q.pop()}@${q.lastTime}`);
    expect(out).toEqual(['d@0', 'b@1', 'e@1', 'a@5', 'c@5', 'f@5']);
    expect(q.pop()).toBeUndefined();
  });

  it('matches a stable sort on thousands of random pushes interleaved with pops', () => {
    const rng = createRng(7);
    const q = new EventQueue<number>();
    const ref: { t: number; i: number }[] = [];
    const got: number[] = [];
    const want: number[] = [];
    let i = 0;
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 100; k++) {
        const t = rng.int(40) + round * 10; // many ties, and times after what was popped
        q.push(t, i);
        ref.push({ t, i });
        i++;
      }
      ref.sort((a, b) => a.t - b.t || a.i - b.i);
      for (let k = 0; k < 60; k++) {
        got.push(q.pop()!);
        want.push(ref.shift()!.i);
      }
    }
    expect(got).toEqual(want);
    expect(() => q.push(Number.NaN, 0)).toThrow(RangeError);
  });
});

describe('Samples', () => {
  it.each([
    { xs: [], q: 50, want: 0 },
    { xs: [3], q: 99, want: 3 },
    { xs: [5, 1, 4, 2, 3], q: 50, want: 3 },
    { xs: [5, 1, 4, 2, 3], q: 90, want: 5 },
    { xs: [5, 1, 4, 2, 3], q: 20, want: 1 },
    { xs: Array.from({ length: 100 }, (_, i) => 100 - i), q: 99, want: 99 },
  ])('nearest-rank p$q of $xs.length values', ({ xs, q, want }) => {
    const s = new Samples();
    for (const x of xs) s.add(x);
    expect(s.percentile(q)).toBe(want);
    expect(s.count).toBe(xs.length);
  });
});
