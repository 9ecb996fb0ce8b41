import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { coprimeStride, createRng } from '../src/index.ts';

function draws(seed: number | string, n: number): number[] {
  const r = createRng(seed);
  return Array.from({ length: n }, () => r.next());
}

describe('createRng', () => {
  it('is deterministic for a seed', () => {
    expect(draws(42, 100)).toEqual(draws(42, 100));
    expect(draws('job-7/attempt-2', 100)).toEqual(draws('job-7/attempt-2', 100));
  });

  it.each([
    [1, 2],
    [0, 1],
    ['a', 'b'],
    ['scheduler-0', 'scheduler-1'],
    [1.5, 2.5],
  ])('seeds %s and %s give different streams', (a, b) => {
    expect(draws(a, 20)).not.toEqual(draws(b, 20));
  });

  it('next() stays in [0, 1) and int(n) in [0, n)', () => {
    const r = createRng('range');
    for (let i = 0; i < 10_000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
    }
    for (const n of [1, 2, 3, 7, 1000, 2 ** 31]) {
      for (let i = 0; i < 1000; i++) {
        const k = r.int(n);
        expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true);
      }
    }
  });

  it('int(n) is roughly uniform', () => {
    const r = createRng(7);
    const counts = new Array(10).fill(0);
    const N = 100_000;
    for (let i = 0; i < N; i++) counts[r.int(10)]++;
    for (const c of counts) expect(Math.abs(c - N / 10)).toBeLessThan(N / 10 * 0.05);
  });

  it.each([0, -1, 2.5, NaN])('int(%s) is a programming error', (n) => {
    expect(() => createRng(1).int(n)).toThrow(RangeError);
  });
});

describe('coprimeStride', () => {
  it('start + k·stride mod n visits every index exactly once (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer(), (n, seed) => {
        const rng = createRng(seed);
        const stride = coprimeStride(n, rng);
        expect(stride >= 1 && (n <= 2 || stride < n)).toBe(true);
        const seen = new Uint8Array(n);
        let idx = rng.int(n);
        for (let k = 0; k < n; k++) {
          seen[idx]++;
          idx = (idx + stride) % n;
        }
        expect(seen.every((x) => x === 1)).toBe(true);
      }),
    );
  });
});
