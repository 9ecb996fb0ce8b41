import { describe, expect, it } from 'vitest';
import { usersToQueues } from '../src/index.ts';

describe('usersToQueues', () => {
  it('groups users into queues of about equal volume, heaviest first', () => {
    const m = usersToQueues(new Map([['a', 10], ['b', 6], ['c', 5], ['d', 1]]), ['q0', 'q1']);
    expect(Object.fromEntries(m)).toEqual({ a: 'q0', b: 'q1', c: 'q1', d: 'q0' });
  });

  it('breaks equal volumes by name, so the grouping is deterministic', () => {
    const m = usersToQueues(new Map([['y', 1], ['x', 1]]), ['q0', 'q1']);
    expect(Object.fromEntries(m)).toEqual({ x: 'q0', y: 'q1' });
  });
});
