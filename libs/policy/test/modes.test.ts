import { describe, expect, it } from 'vitest';
import { AdaptiveMode, EFFECTIVE_MODES, isPlacementMode, PLACEMENT_MODES, type EffectiveMode } from '../src/index.ts';

describe('placement modes', () => {
  it('lists the four modes of DESIGN §4', () => {
    expect([...PLACEMENT_MODES]).toEqual(['latency-first', 'quality-first', 'adaptive', 'state-sync']);
    expect([...EFFECTIVE_MODES]).not.toContain('adaptive');
    expect(isPlacementMode('adaptive')).toBe(true);
    expect(isPlacementMode('fastest')).toBe(false);
    expect(isPlacementMode(undefined)).toBe(false);
  });
});

describe('AdaptiveMode', () => {
  const Q: EffectiveMode = 'quality-first';
  const L: EffectiveMode = 'latency-first';
  const cases: { name: string; opts?: ConstructorParameters<typeof AdaptiveMode>[0]; delays: number[]; want: EffectiveMode[] }[] = [
    { name: 'stays quality-first under the threshold', delays: [0, 500, 1499], want: [Q, Q, Q] },
    { name: 'switches at the threshold (default 1500)', delays: [1000, 1500], want: [Q, L] },
    { name: 'stays latency-first in the hysteresis band', delays: [2000, 1499, 1300, 1200], want: [L, L, L, L] },
    { name: 'returns below threshold × 0.8', delays: [2000, 1199, 1300, 1500], want: [L, Q, Q, L] },
    { name: 'custom threshold and hysteresis', opts: { thresholdMs: 100, hysteresis: 0.5 }, delays: [99, 100, 60, 50, 49], want: [Q, L, L, L, Q] },
    { name: 'hysteresis 1 means no band', opts: { thresholdMs: 100, hysteresis: 1 }, delays: [100, 99, 100], want: [L, Q, L] },
    { name: 'NaN delays change nothing', delays: [NaN, 2000, NaN], want: [Q, L, L] },
  ];
  it.each(cases)('$name', ({ opts, delays, want }) => {
    const a = new AdaptiveMode(opts);
    expect(a.current).toBe(Q);
    const got = delays.map((d) => a.observe(d));
    expect(got).toEqual(want);
    expect(a.current).toBe(want[want.length - 1]);
  });

  it.each([
    { thresholdMs: 0 },
    { thresholdMs: -5 },
    { thresholdMs: Infinity },
    { hysteresis: 0 },
    { hysteresis: 1.2 },
    { hysteresis: NaN },
  ])('refuses bad options %o', (opts) => {
    expect(() => new AdaptiveMode(opts)).toThrow(RangeError);
  });
});
