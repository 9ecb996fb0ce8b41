/** The pure part of pulling by room: how many messages to ask for, given recent batch sizes. */
import { describe, expect, it } from 'vitest';
import { messagesToFetch, RecentMax } from '../src/pull-intake.ts';

describe('messagesToFetch', () => {
  const table: [number, number | undefined, number, number][] = [
    // room, jobs per message, max → messages
    [0, 1, 1000, 0],
    [-5, 1, 1000, 0],
    [512, undefined, 1000, 8], // nothing seen yet: a few, whatever they carry
    [3, undefined, 1000, 3],
    [512, 1, 1000, 512], // single jobs: as many as there is room for
    [5000, 1, 1000, 1000],
    [512, 256, 1000, 2], // batches: room ÷ batch size
    [100, 256, 1000, 1], // less room than a batch: still one (rounded up), never zero
    [257, 256, 1000, 2],
    [0.5, 1, 1000, 1],
  ];
  for (const [room, per, max, want] of table) {
    it(`room ${room}, ${per ?? 'unknown'} jobs a message → ${want}`, () => expect(messagesToFetch(room, per, max)).toBe(want));
  }
});

describe('RecentMax', () => {
  it('is the largest of the last n pushes', () => {
    const r = new RecentMax(3);
    expect(r.value).toBeUndefined();
    r.push(1);
    r.push(256);
    expect(r.value).toBe(256);
    r.push(1);
    r.push(1);
    expect(r.value).toBe(256);
    r.push(1); // 256 has left the window
    expect(r.value).toBe(1);
  });
});
