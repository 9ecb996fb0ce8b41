import { describe, expect, it } from 'vitest';
import { ConflictAwareAdaptive } from '../src/index.ts';

describe('ConflictAwareAdaptive', () => {
  it('switches on delay as policy\'s AdaptiveMode does', () => {
    const a = new ConflictAwareAdaptive({ thresholdMs: 1000, hysteresis: 0.8 });
    expect(a.current).toBe('quality-first');
    expect(a.observeDelay(1000)).toBe('latency-first');
    expect(a.observeDelay(900)).toBe('latency-first');
    expect(a.observeDelay(700)).toBe('quality-first');
  });

  it('switches to latency-first on the conflict rate while delays are still short', () => {
    const a = new ConflictAwareAdaptive({ thresholdMs: 1000, conflictThreshold: 0.1 });
    a.observeDelay(10);
    expect(a.observeClaims(95, 5, 0)).toBe('quality-first');
    expect(a.observeClaims(70, 30, 10)).toBe('latency-first');
    expect(a.conflictRate(10)).toBeCloseTo(35 / 200);
  });

  it('comes back only once the conflict rate fell under threshold × hysteresis', () => {
    const a = new ConflictAwareAdaptive({ conflictThreshold: 0.1, hysteresis: 0.8, halfLifeMs: 1000 });
    a.observeClaims(50, 50, 0);
    expect(a.current).toBe('latency-first');
    // Clean answers later: the old refusals decay (half-life 1 s) and the rate falls.
    expect(a.observeClaims(100, 0, 1000)).toBe('latency-first'); // 25 / 150 ≈ 0.17 ≥ 0.08
    expect(a.observeClaims(100, 0, 3000)).toBe('quality-first'); // 6.25 / 137.5 ≈ 0.045 < 0.08
    expect(a.conflictRate(3000)).toBeCloseTo(6.25 / 137.5);
  });

  it('stays latency-first while the delay says so, whatever the conflict rate', () => {
    const a = new ConflictAwareAdaptive({ thresholdMs: 100 });
    a.observeDelay(500);
    expect(a.observeClaims(100, 0, 0)).toBe('latency-first');
  });

  it('refuses bad options', () => {
    expect(() => new ConflictAwareAdaptive({ conflictThreshold: 0 })).toThrow(RangeError);
    expect(() => new ConflictAwareAdaptive({ halfLifeMs: 0 })).toThrow(RangeError);
  });
});
