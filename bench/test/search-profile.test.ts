import { describe, expect, it } from 'vitest';
import { judgeStep, nextProbe, type Probe, type SearchOptions } from '../src/saturation.ts';
import { formatTop, moduleOf, profileFileIds, shortLocation, summariseProfile, type CpuProfile } from '../src/profile.ts';

/** Runs the search against a synthetic system that keeps up at rates ≤ `capacity`. */
function search(capacity: number, o: SearchOptions): { probes: number[]; result: ReturnType<typeof nextProbe> } {
  const history: Probe[] = [];
  for (;;) {
    const d = nextProbe(history, o);
    if (d.kind === 'done') return { probes: history.map((p) => p.rate), result: d };
    history.push({ rate: d.rate, ok: d.rate <= capacity });
  }
}

describe('saturation search', () => {
  const o: SearchOptions = { start: 4, min: 1, max: 256, tolerance: 0.1, maxSteps: 12 };

  it('doubles until a failure, then bisects to the tolerance', () => {
    const { probes, result } = search(37, o);
    expect(probes.slice(0, 5)).toEqual([4, 8, 16, 32, 64]);
    expect(probes[5]).toBe(48);
    expect(result.kind).toBe('done');
    if (result.kind !== 'done') return;
    expect(result.saturation).toBeLessThanOrEqual(37);
    const [lo, hi] = result.bracket;
    expect((hi! - lo) / lo).toBeLessThanOrEqual(0.1);
    expect(result.saturation).toBeGreaterThan(37 / 1.1);
  });

  it('halves down from the start when the first probe fails, and reports 0 below the minimum', () => {
    expect(search(2.5, o).probes.slice(0, 3)).toEqual([4, 2, 3]);
    const none = search(0.5, o);
    expect(none.probes).toEqual([4, 2, 1]);
    expect(none.result).toMatchObject({ kind: 'done', saturation: 0 });
  });

  it('stops at the maximum when everything keeps up', () => {
    const r = search(1e9, { ...o, max: 20 });
    expect(r.probes).toEqual([4, 8, 16, 20]);
    expect(r.result).toMatchObject({ kind: 'done', saturation: 20 });
  });

  it('respects the step budget', () => {
    const r = search(37, { ...o, maxSteps: 3 });
    expect(r.probes).toEqual([4, 8, 16]);
    expect(r.result).toMatchObject({ kind: 'done', saturation: 16 });
  });

  it('trusts a failure over a noisy pass above it', () => {
    const d = nextProbe([{ rate: 4, ok: true }, { rate: 8, ok: false }, { rate: 16, ok: true }], o);
    expect(d).toEqual({ kind: 'probe', rate: 6 });
  });

  it('refuses inconsistent bounds', () => {
    expect(() => nextProbe([], { start: 1, min: 2, max: 3 })).toThrow(RangeError);
  });

  it.each([
    { name: 'a bounded queue and low p99', s: { backlogSlope: 0.1, backlogEnd: 3, p99Ms: 200 }, ok: true, reason: '' },
    { name: 'a growing queue', s: { backlogSlope: 5, backlogEnd: 3, p99Ms: 200 }, ok: false, reason: 'queue grows' },
    { name: 'a large backlog left', s: { backlogSlope: 0, backlogEnd: 500, p99Ms: 200 }, ok: false, reason: 'backlog' },
    { name: 'a p99 over the limit', s: { backlogSlope: 0, backlogEnd: 0, p99Ms: 1500 }, ok: false, reason: 'p99' },
    { name: 'no p99 at all', s: { backlogSlope: 0, backlogEnd: 0, p99Ms: Number.NaN }, ok: false, reason: 'p99' },
    { name: 'a late generator', s: { backlogSlope: 0, backlogEnd: 0, p99Ms: 10, generatorBehind: 3 }, ok: false, reason: 'load generator' },
    { name: 'nothing finished', s: { backlogSlope: 0, backlogEnd: 0, p99Ms: 10, jobsFinished: 0 }, ok: false, reason: 'no job finished' },
    { name: 'few jobs queued but much work behind', s: { backlogSlope: 0, backlogEnd: 2, p99Ms: 10, workLagS: 7 }, ok: false, reason: 'behind the offered work' },
    { name: 'a short work lag', s: { backlogSlope: 0, backlogEnd: 2, p99Ms: 10, workLagS: 1.5 }, ok: true, reason: '' },
  ])('judges a step with $name', ({ s, ok, reason }) => {
    const v = judgeStep({ rate: 20, generatorBehind: 0, jobsFinished: 100, ...s });
    expect(v.ok).toBe(ok);
    if (!ok) expect(v.reasons.join(' ')).toContain(reason);
  });
});

describe('cpu profile summary', () => {
  // root → main → (hot: 3 samples, json: 1 sample); idle 2 samples; gc 1 sample. 1 ms apart.
  const profile: CpuProfile = {
    startTime: 0,
    endTime: 8000,
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 5, 6] },
      { id: 2, callFrame: { functionName: 'main', url: 'file:///repo/services/x/src/main.ts', lineNumber: 9 }, children: [3, 4] },
      { id: 3, callFrame: { functionName: 'hot', url: 'file:///repo/node_modules/zod/lib/types.js', lineNumber: 99 } },
      { id: 4, callFrame: { functionName: 'parse', url: 'node:internal/json', lineNumber: 0 } },
      { id: 5, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      { id: 6, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
      // Same function reached by another path: merged with node 3.
      { id: 7, callFrame: { functionName: 'hot', url: 'file:///repo/node_modules/zod/lib/types.js', lineNumber: 99 } },
    ],
    samples: [3, 3, 7, 4, 5, 5, 6, 3],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };

  it('ranks functions by self time, merging call paths, and separates idle and gc', () => {
    const s = summariseProfile(profile, 10, '/repo');
    expect(s.totalMs).toBeCloseTo(7);
    expect(s.idleMs).toBeCloseTo(2);
    expect(s.gcMs).toBeCloseTo(1);
    expect(s.top[0]).toMatchObject({ functionName: 'hot', location: 'node_modules/zod/lib/types.js:100', selfMs: 3 });
    expect(s.top[0].busyShare).toBeCloseTo(3 / 5);
    expect(s.top.map((r) => r.functionName)).toEqual(['hot', 'parse', '(garbage collector)']);
    expect(s.byModule[0]).toMatchObject({ module: 'zod', selfMs: 3 });
    expect(formatTop(s, 1)).toContain('60.0%');
  });

  it('keeps only the samples inside a time window', () => {
    // Sample timestamps are 0, 1000, …, 7000 µs; keep 1500–4500 → samples 2..4 (nodes 7, 4, 5).
    const s = summariseProfile(profile, 10, '/repo', { fromUs: 1500, toUs: 4500 });
    expect(s.totalMs).toBeCloseTo(3);
    expect(s.idleMs).toBeCloseTo(1);
    expect(s.top.map((r) => r.functionName).sort()).toEqual(['hot', 'parse']);
  });

  it('reads pid and thread from node\'s profile file names', () => {
    expect(profileFileIds('CPU.20261121.014512.6537.0.001.cpuprofile')).toEqual({ pid: 6537, tid: 0 });
    expect(profileFileIds('CPU.20261121.014513.6537.1.002.cpuprofile')).toEqual({ pid: 6537, tid: 1 });
    expect(profileFileIds('other.json')).toBeUndefined();
  });

  it('falls back to hit counts without samples', () => {
    const s = summariseProfile({ startTime: 0, endTime: 4000, nodes: [
      { id: 1, callFrame: { functionName: 'a', url: 'file:///r/a.ts', lineNumber: 0 }, hitCount: 3 },
      { id: 2, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 }, hitCount: 1 },
    ] });
    expect(s.top[0]).toMatchObject({ functionName: 'a', selfMs: 3 });
  });

  it.each([
    ['file:///work/main/libs/core/src/validate.ts', '/work/main', 'libs/core/src/validate.ts', 'libs/core/src/validate.ts'],
    ['file:///work/main/node_modules/@msgpack/msgpack/dist/x.js', '/work/main', 'node_modules/@msgpack/msgpack/dist/x.js', '@msgpack/msgpack'],
    ['node:internal/streams/readable', undefined, 'node:internal/streams/readable', 'node internals'],
    ['', undefined, '', '(native/vm)'],
  ])('locates %s', (url, root, location, module) => {
    expect(shortLocation(url, root)).toBe(location);
    expect(moduleOf(location)).toBe(module);
  });
});
