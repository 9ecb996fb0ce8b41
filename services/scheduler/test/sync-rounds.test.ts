import { describe, expect, it } from 'vitest';
import { roundsToFetch } from '../src/shell/sync-loop.ts';

describe('roundsToFetch', () => {
  it.each([
    { name: 'the first request: the current round and the next ones of its tick', next: undefined, current: 100, per: 4, P: 32, want: { first: 100, count: 4 } },
    { name: 'on time: goes on where the last request stopped', next: 104, current: 104, per: 4, P: 32, want: { first: 104, count: 4 } },
    { name: 'behind: fetches the rounds it missed too', next: 104, current: 110, per: 4, P: 32, want: { first: 104, count: 10 } },
    { name: 'far behind: at most one cycle of P rounds back', next: 104, current: 1_000, per: 4, P: 32, want: { first: 969, count: 35 } },
    { name: 'woke early: never ahead of the clock by more than a tick', next: 120, current: 110, per: 4, P: 32, want: { first: 114, count: 1 } },
    { name: 'state-sync (P rounds of all partitions): still bounded', next: 10, current: 11, per: 1, P: 8, want: { first: 10, count: 2 } },
  ])('$name', ({ next, current, per, P, want }) => {
    expect(roundsToFetch(next, current, per, P)).toEqual(want);
  });
});
