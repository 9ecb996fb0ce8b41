import { describe, expect, it } from 'vitest';
import { BadNodeTracker, DEFAULT_BAD_NODE_POLICY, type BadNodePolicy } from '../src/index.ts';

const small: Partial<BadNodePolicy> = { threshold: 3, windowMs: 1_000, holdMs: 5_000, maxMarked: 2, burst: 2, refillMs: 10_000 };

/** Feeds refusals `[node, at]` in order; returns the nodes marked, in order. */
function feed(t: BadNodeTracker, refusals: readonly (readonly [string, number])[]): string[] {
  const marked: string[] = [];
  for (const [id, at] of refusals) {
    const m = t.record(id, at);
    if (m !== undefined) marked.push(m.nodeId);
  }
  return marked;
}

describe('BadNodeTracker', () => {
  it.each([
    { name: 'threshold refusals inside the window mark the node', refusals: [['a', 0], ['a', 100], ['a', 200]], marked: ['a'] },
    { name: 'fewer than the threshold do not', refusals: [['a', 0], ['a', 100]], marked: [] },
    { name: 'refusals older than the window do not count', refusals: [['a', 0], ['a', 100], ['a', 1_500]], marked: [] },
    { name: 'refusals of different nodes count apart', refusals: [['a', 0], ['b', 10], ['a', 20], ['b', 30]], marked: [] },
    { name: 'at most maxMarked nodes are held at once', refusals: [['a', 0], ['a', 1], ['a', 2], ['b', 3], ['b', 4], ['b', 5], ['c', 6], ['c', 7], ['c', 8]], marked: ['a', 'b'] },
    { name: 'a held node is not marked again', refusals: [['a', 0], ['a', 1], ['a', 2], ['a', 3], ['a', 4], ['a', 5]], marked: ['a'] },
  ] as const)('$name', ({ refusals, marked }) => {
    expect(feed(new BadNodeTracker(small), refusals)).toEqual(marked);
  });

  it('holds a node for holdMs, then expires it', () => {
    const t = new BadNodeTracker(small);
    const m = feed(t, [['a', 0], ['a', 1], ['a', 2]]);
    expect(m).toEqual(['a']);
    expect(t.isBad('a', 4_000)).toBe(true);
    expect(t.expire(4_000)).toEqual([]);
    expect(t.expire(5_002)).toEqual(['a']);
    expect(t.isBad('a', 5_002)).toBe(false);
    expect(t.markedCount).toBe(0);
  });

  it('rate-limits marks with a token bucket (a cell-wide storm cannot mark every node)', () => {
    const t = new BadNodeTracker({ ...small, maxMarked: 100, burst: 2, refillMs: 1_000 });
    const three = (id: string, at: number) => [[id, at], [id, at + 1], [id, at + 2]] as const;
    expect(feed(t, [...three('a', 0), ...three('b', 10), ...three('c', 20)])).toEqual(['a', 'b']);
    // One token back after refillMs.
    expect(feed(t, three('d', 1_100))).toEqual(['d']);
  });

  it('forgets the least recently refused node past maxTracked', () => {
    const t = new BadNodeTracker({ ...small, maxTracked: 2 });
    // a, b tracked; c evicts a (least recently refused), so a starts over.
    expect(feed(t, [['a', 0], ['a', 1], ['b', 2], ['c', 3], ['a', 4], ['a', 5]])).toEqual([]);
    expect(feed(t, [['a', 6]])).toEqual(['a']);
  });

  it('refuses a bad policy', () => {
    expect(() => new BadNodeTracker({ threshold: 0 })).toThrow(RangeError);
    expect(() => new BadNodeTracker({ holdMs: Number.NaN })).toThrow(RangeError);
    expect(new BadNodeTracker().policy).toEqual(DEFAULT_BAD_NODE_POLICY);
  });
});
