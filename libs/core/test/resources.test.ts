import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addInto,
  componentMax,
  DEFAULT_RESOURCE_NAMES,
  dominantShare,
  fits,
  fitsWith,
  isResourceError,
  isZero,
  ResourceSpace,
  subtractInto,
} from '../src/index.ts';
import { space, vec } from './builders.ts';

describe('ResourceSpace.of', () => {
  it.each([
    ['empty', []],
    ['duplicate', ['cpu_millis', 'cpu_millis']],
    ['upper case', ['CPU']],
    ['leading digit', ['1cpu']],
    ['dash', ['mem-mib']],
  ])('refuses %s names with a RangeError', (_, names) => {
    expect(() => ResourceSpace.of(names)).toThrow(RangeError);
  });

  it('lays the default space out in the documented order', () => {
    expect(ResourceSpace.default.names).toEqual([...DEFAULT_RESOURCE_NAMES]);
    expect(ResourceSpace.default.size).toBe(4);
    expect(ResourceSpace.default.indexOf('gpu')).toBe(2);
    expect(ResourceSpace.default.indexOf('disk_mib')).toBeUndefined();
  });
});

describe('ResourceSpace.parse', () => {
  it('converts a record into a vector in space order, missing names are zero', () => {
    const v = space.parse({ gpu: 2, cpu_millis: 1500 });
    expect(isResourceError(v)).toBe(false);
    expect([...(v as Float64Array)]).toEqual([1500, 0, 2]);
    expect([...(space.parse({}) as Float64Array)]).toEqual([0, 0, 0]);
  });

  it.each([
    ['unknown name', { cpu_millis: 1, disk_mib: 5 }, 'resources.disk_mib', /unknown resource "disk_mib"/],
    ['negative', { mem_mib: -1 }, 'resources.mem_mib', /finite number ≥ 0/],
    ['NaN', { cpu_millis: NaN }, 'resources.cpu_millis', /finite/],
    ['Infinity', { gpu: Infinity }, 'resources.gpu', /finite/],
    ['-Infinity', { gpu: -Infinity }, 'resources.gpu', /finite/],
    ['a string amount', { cpu_millis: '100' }, 'resources.cpu_millis', /finite/],
    ['null amount', { cpu_millis: null }, 'resources.cpu_millis', /finite/],
    ['null', null, 'resources', /must be an object/],
    ['undefined', undefined, 'resources', /must be an object/],
    ['a number', 42, 'resources', /must be an object/],
    ['a string', 'cpu_millis=1', 'resources', /must be an object/],
    ['an array', [1, 2, 3], 'resources', /must be an object/],
  ])('refuses %s with a typed error and the path', (_, input, path, message) => {
    const r = space.parse(input);
    expect(isResourceError(r)).toBe(true);
    if (!isResourceError(r)) return;
    expect(r.path).toBe(path);
    expect(r.message).toMatch(message);
  });

  it('prefixes the caller path', () => {
    expect(space.parse({ bogus: 1 }, 'tasks[3].resources')).toMatchObject({ path: 'tasks[3].resources.bogus' });
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const r = space.parse(input);
        if (isResourceError(r)) {
          expect(typeof r.path).toBe('string');
          expect(typeof r.message).toBe('string');
        } else {
          expect(r.length).toBe(space.size);
          for (const x of r) expect(Number.isFinite(x) && x >= 0).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('vector() throws a RangeError naming the path for bad input', () => {
    expect(() => space.vector({ cpu_millis: -5 })).toThrow(/resources\.cpu_millis/);
    expect(space.vector({ mem_mib: 7 })[1]).toBe(7);
  });

  it('record() round-trips, omitting zeros unless asked', () => {
    const v = vec(100, 0, 1);
    expect(space.record(v)).toEqual({ cpu_millis: 100, gpu: 1 });
    expect(space.record(v, true)).toEqual({ cpu_millis: 100, mem_mib: 0, gpu: 1 });
    expect([...space.vector(space.record(v))]).toEqual([...v]);
  });
});

describe('fitsWith / fits', () => {
  const cap = vec(1000, 512, 1);
  it.each([
    ['empty node, small demand', [0, 0, 0], undefined, [500, 256, 0], true],
    ['exactly full', [500, 256, 0], undefined, [500, 256, 1], true],
    ['over on one dimension only', [500, 256, 0], undefined, [500, 256, 2], false],
    ['over on cpu', [900, 0, 0], undefined, [101, 0, 0], false],
    ['extra counts', [400, 0, 0], [400, 0, 0], [200, 0, 0], true],
    ['extra pushes it over', [400, 0, 0], [400, 0, 0], [201, 0, 0], false],
    ['zero demand on a full node', [1000, 512, 1], undefined, [0, 0, 0], true],
    ['zero demand on an over-full node', [1001, 0, 0], undefined, [0, 0, 0], false],
  ])('%s', (_, alloc, extra, demand, expected) => {
    expect(fitsWith(cap, vec(...alloc), extra === undefined ? undefined : vec(...extra), vec(...demand))).toBe(expected);
    if (extra === undefined) expect(fits(cap, vec(...alloc), vec(...demand))).toBe(expected);
  });

  it.each([
    ['NaN capacity', vec(NaN, 512, 1), vec(0, 0, 0), vec(1, 0, 0)],
    ['NaN allocated', cap, vec(NaN, 0, 0), vec(1, 0, 0)],
    ['NaN demand', cap, vec(0, 0, 0), vec(NaN, 0, 0)],
  ])('%s never fits (a NaN must not open a node to everything)', (_, c, a, d) => {
    expect(fitsWith(c, a, undefined, d)).toBe(false);
    expect(fitsWith(c, a, vec(0, 0, 0), d)).toBe(false);
  });
});

describe('dominantShare', () => {
  it.each([
    ['empty', [1000, 1000, 0], [0, 0, 0], 0],
    ['cpu dominates', [1000, 1000, 0], [500, 250, 0], 0.5],
    ['mem dominates', [1000, 1000, 0], [100, 900, 0], 0.9],
    ['zero-capacity dimension ignored', [1000, 1000, 0], [100, 100, 3], 0.1],
    ['full gpu', [1000, 1000, 2], [0, 0, 2], 1],
    ['over-full', [1000, 1000, 0], [1500, 0, 0], 1.5],
  ])('%s', (_, c, u, expected) => {
    expect(dominantShare(vec(...c), vec(...u))).toBeCloseTo(expected, 12);
  });
});

describe('vector helpers', () => {
  it('addInto / subtractInto are inverse and clamp at zero', () => {
    const t = vec(10, 20, 1);
    addInto(t, vec(5, 5, 1));
    expect([...t]).toEqual([15, 25, 2]);
    subtractInto(t, vec(5, 5, 1));
    expect([...t]).toEqual([10, 20, 1]);
    subtractInto(t, vec(11, 0, 0));
    expect([...t]).toEqual([0, 20, 1]);
  });

  it('isZero and componentMax', () => {
    expect(isZero(vec(0, 0, 0))).toBe(true);
    expect(isZero(vec(0, 1e-12, 0))).toBe(false);
    const m = vec(1, 5, 0);
    componentMax(m, vec(3, 2, 1));
    expect([...m]).toEqual([3, 5, 1]);
  });
});
