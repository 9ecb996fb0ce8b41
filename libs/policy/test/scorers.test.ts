import { dominantShare, ResourceSpace, type ResourceVector } from '@tessera/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binpackScore,
  binpackScorer,
  dominantShareAfter,
  preferencesScore,
  preferencesScorer,
  scoreNode,
  spreadScore,
} from '../src/index.ts';
import { aContext, aNode, aTask } from './builders.ts';

describe('binpack and spread scorers', () => {
  // Node capacity 4000 cpu / 8192 mem; task 1000 cpu / 1024 mem unless said otherwise.
  const cases = [
    { name: 'empty node', node: aNode('n'), binpack: 0.25 },
    { name: 'half-full cpu', node: aNode('n').alloc({ cpu_millis: 2000 }), binpack: 0.75 },
    { name: 'memory dominates', node: aNode('n').alloc({ mem_mib: 6144 }), binpack: 0.875 },
    { name: 'reservations count', node: aNode('n').alloc({ cpu_millis: 1000 }).reserved({ cpu_millis: 1000 }), binpack: 0.75 },
    { name: 'exactly full after placing', node: aNode('n').alloc({ cpu_millis: 3000 }), binpack: 1 },
    { name: 'over-committed state clamps to 1', node: aNode('n').alloc({ cpu_millis: 8000 }), binpack: 1 },
  ];
  const task = aTask().req({ cpu_millis: 1000, mem_mib: 1024 }).obj();

  it.each(cases)('$name', ({ node, binpack }) => {
    const n = node.obj();
    expect(binpackScore(n, task)).toBeCloseTo(binpack, 12);
    expect(spreadScore(n, task)).toBeCloseTo(1 - binpack, 12);
    expect(scoreNode(n, task, 'binpack')).toBeCloseTo(binpack, 12);
    expect(scoreNode(n, task, 'spread')).toBeCloseTo(1 - binpack, 12);
  });

  it('binpack prefers the fuller node, spread the emptier one', () => {
    const full = aNode('full').alloc({ cpu_millis: 2500 }).obj();
    const empty = aNode('empty').alloc({ cpu_millis: 500 }).obj();
    expect(binpackScore(full, task)).toBeGreaterThan(binpackScore(empty, task));
    expect(spreadScore(empty, task)).toBeGreaterThan(spreadScore(full, task));
  });

  it('scoreNode works on bare vectors without reserved or labels', () => {
    const node = { capacity: Float64Array.of(10, 10, 0, 0), allocated: Float64Array.of(5, 0, 0, 0) };
    expect(scoreNode(node, task, 'binpack')).toBe(1); // 5 + 1000 cpu on capacity 10: clamped
    const small = aTask().req({ cpu_millis: 1 }).obj();
    expect(scoreNode(node, small, 'binpack')).toBeCloseTo(0.6, 12);
    expect(scoreNode(node, small, 'spread')).toBeCloseTo(0.4, 12);
  });

  it('scoreNode refuses an unknown scorer name', () => {
    expect(() => scoreNode(aNode('n').obj(), task, 'most-expensive' as 'binpack')).toThrow(/unknown scorer "most-expensive"/);
  });

  it('dominantShareAfter equals core dominantShare of allocated + reserved + demand (property)', () => {
    const amount = fc.double({ min: 0, max: 1e6, noNaN: true });
    const vec = fc.array(amount, { minLength: 3, maxLength: 3 }).map((a) => Float64Array.from(a));
    fc.assert(
      fc.property(vec, vec, fc.option(vec, { nil: undefined }), vec, (cap: ResourceVector, alloc, res, dem) => {
        const used = Float64Array.from(alloc);
        for (let i = 0; i < 3; i++) used[i] += (res?.[i] ?? 0) + dem[i];
        const want = Math.min(1, dominantShare(cap, used));
        expect(dominantShareAfter(cap, alloc, res, dem)).toBeCloseTo(want, 9);
      }),
    );
  });

  it('binpack and spread always lie in [0, 1] (property)', () => {
    const sp = ResourceSpace.of(['a', 'b']);
    const v = fc.tuple(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e9, noNaN: true })).map(([x, y]) => sp.vector({ a: x, b: y }));
    fc.assert(
      fc.property(v, v, v, (cap, alloc, dem) => {
        const t = { ...aTask().obj(), demand: dem };
        for (const s of ['binpack', 'spread'] as const) {
          const x = scoreNode({ capacity: cap, allocated: alloc }, t, s);
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('binpack applies to every task', () => {
    expect(binpackScorer.appliesTo(task, aContext())).toBe(true);
  });
});

describe('preferences scorer', () => {
  const node = aNode('n').label('zone', 'a').label('disk', 'ssd').obj();
  const cases = [
    { name: 'no preferences', task: aTask(), applies: false, score: 0 },
    { name: 'one matched, default weight', task: aTask().prefer('zone', 'in', ['a']), applies: true, score: 1 },
    { name: 'one unmatched', task: aTask().prefer('zone', 'in', ['b']), applies: true, score: 0 },
    { name: 'weighted: 30 of 100 matched', task: aTask().prefer('disk', 'exists', undefined, 30).prefer('zone', 'not_in', ['a'], 70), applies: true, score: 0.3 },
    { name: 'default weight 50 vs explicit 50', task: aTask().prefer('gpu', 'exists').prefer('disk', 'in', ['ssd'], 50), applies: true, score: 0.5 },
    { name: 'only zero weights: does not apply', task: aTask().prefer('zone', 'in', ['a'], 0), applies: false, score: 0 },
    { name: 'not_exists on a missing label', task: aTask().prefer('rack', 'not_exists', undefined, 10), applies: true, score: 1 },
  ];
  it.each(cases)('$name', ({ task, applies, score }) => {
    const t = task.obj();
    expect(preferencesScorer.appliesTo(t, aContext())).toBe(applies);
    expect(preferencesScore(node, t)).toBeCloseTo(score, 12);
  });

  it('treats a node without labels as matching only absence', () => {
    const t = aTask().prefer('zone', 'exists', undefined, 1).prefer('rack', 'not_exists', undefined, 3).obj();
    expect(preferencesScore({ capacity: node.capacity, allocated: node.allocated }, t)).toBeCloseTo(0.75, 12);
  });
});
