import { describe, expect, it } from 'vitest';
import { heartbeatRequestTimeoutMs, HeartbeatPacer } from '../src/core/heartbeat-pacer.ts';

describe('heartbeatRequestTimeoutMs', () => {
  it.each([
    { heartbeatMs: 2000, requested: undefined, want: 2000 }, // one period: never a whole liveness window
    { heartbeatMs: 1000, requested: 10_000, want: 1000 }, // a longer request timeout is cut to the period
    { heartbeatMs: 1000, requested: 400, want: 400 },
    { heartbeatMs: 60_000, requested: undefined, want: 60_000 },
    { heartbeatMs: 50, requested: 1, want: 50 },
  ])('period $heartbeatMs, asked $requested → $want', ({ heartbeatMs, requested, want }) => {
    expect(heartbeatRequestTimeoutMs(heartbeatMs, requested)).toBe(want);
  });
});

describe('HeartbeatPacer', () => {
  it('starts a round per tick while none is out', () => {
    const p = new HeartbeatPacer();
    const a = p.tick()!;
    expect(p.isCurrent(a)).toBe(true);
    expect(p.ended(a)).toBeUndefined();
    const b = p.tick()!;
    expect(b).not.toBe(a);
    expect(p.out).toBe(b);
  });

  it('a tick while a round is out is not dropped: the next round starts when that one ends', () => {
    const p = new HeartbeatPacer();
    const a = p.tick()!;
    expect(p.tick()).toBeUndefined();
    expect(p.tick()).toBeUndefined(); // several ticks: still one round to catch up
    const b = p.ended(a);
    expect(b).toBeDefined();
    expect(p.isCurrent(b!)).toBe(true);
    expect(p.ended(b!)).toBeUndefined();
    expect(p.out).toBe(0);
  });

  it('a reconnect abandons the round out and starts one at once; the abandoned round ending changes nothing', () => {
    const p = new HeartbeatPacer();
    const a = p.tick()!;
    p.tick(); // due
    const b = p.reconnected();
    expect(p.isCurrent(a)).toBe(false);
    expect(p.isCurrent(b)).toBe(true);
    expect(p.ended(a)).toBeUndefined(); // the lost round's timeout comes in later
    expect(p.out).toBe(b);
    expect(p.ended(b)).toBeUndefined(); // the reconnect round covered the due tick
  });

  it('the gap between two rounds started is at most a period plus the request timeout (≤ two periods)', () => {
    // Simulated time: ticks every 1000 ms; round 1 is lost (times out after 1000 ms), the rest answer in 10 ms.
    const period = 1000;
    const timeout = heartbeatRequestTimeoutMs(period);
    const p = new HeartbeatPacer();
    const starts: number[] = [];
    const ends = new Map<number, number>(); // round → end time
    const begin = (id: number | undefined, t: number) => {
      if (id === undefined) return;
      starts.push(t);
      ends.set(id, t + (starts.length === 2 ? timeout : 10));
    };
    for (let t = 0; t <= 6000; t += 5) {
      for (const [id, end] of [...ends]) {
        if (end === t) {
          ends.delete(id);
          begin(p.ended(id), t);
        }
      }
      if (t % period === 0) begin(p.tick(), t);
    }
    const gaps = starts.slice(1).map((t, i) => t - starts[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(period + timeout);
    expect(starts.length).toBeGreaterThanOrEqual(6);
  });
});
