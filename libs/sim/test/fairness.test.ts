import { describe, expect, it } from 'vitest';
import { jainIndex, usersToQueues, waterFill } from '../src/experiments/fairness.ts';

describe('fairness experiment arithmetic', () => {
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
  ])('water-fills demands %j to %j', (demands, fair) => {
    const out = waterFill(demands);
    out.forEach((x, i) => expect(x).toBeCloseTo(fair[i], 10));
  });

  it('groups users into queues of about equal volume, heaviest first', () => {
    const m = usersToQueues(new Map([['a', 10], ['b', 6], ['c', 5], ['d', 1]]), ['q0', 'q1']);
    expect(Object.fromEntries(m)).toEqual({ a: 'q0', b: 'q1', c: 'q1', d: 'q0' });
  });
});
