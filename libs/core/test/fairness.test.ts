import { describe, expect, it } from 'vitest';
import { fairnessOf, jainIndex, waterFill } from '../src/index.ts';

describe('fairness measures', () => {
  it.each([
    [[0.5, 0.5], 1],
    [[1, 0], 0.5],
    [[1, 0, 0, 0], 0.25],
    [[0.2, 0.4], 0.9],
  ])("Jain's index of %j is %d", (xs, j) => {
    expect(jainIndex(xs)).toBeCloseTo(j, 10);
  });

  it('has no index for no values', () => {
    expect(jainIndex([])).toBeUndefined();
  });

  it.each([
    [[1, 1], [0.5, 0.5]],
    [[0.1, 1, 1], [0.1, 0.45, 0.45]],
    [[0.1, 0.2], [0.1, 0.2]],
    [[0, 2, 0.3], [0, 0.7, 0.3]],
    [[Infinity, Infinity, 0.1, Infinity], [0.3, 0.3, 0.1, 0.3]],
  ])('water-fills demands %j to %j', (demands, fair) => {
    const out = waterFill(demands);
    out.forEach((x, i) => expect(x).toBeCloseTo(fair[i], 10));
  });

  it('scores share ÷ fair share, capped at 1, over the queues with a fair share', () => {
    expect(fairnessOf([0.25, 0.25, 0.5], [0.25, 0.25, 0.5])).toBeCloseTo(1, 10);
    // One of two queues at half its fair share: x = [1, 0.5] → 2.25 / 2.5.
    expect(fairnessOf([0.5, 0.25], [0.5, 0.5])).toBeCloseTo(0.9, 10);
    // Above the fair share counts as 1; a queue with no fair share is left out.
    expect(fairnessOf([0.6, 0.5, 0], [0.5, 0.5, 0])).toBeCloseTo(1, 10);
    expect(fairnessOf([0.5], [0.5])).toBeUndefined();
  });
});
