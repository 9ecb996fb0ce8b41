import { ResourceSpace } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { InFlightUsage, withExtraUsage, type QueueUsage } from '../src/index.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib']);
const v = (cpu: number, mem = 0) => space.vector({ cpu_millis: cpu, mem_mib: mem });
const base = (): QueueUsage => ({ capacity: v(10_000, 10_000), allocated: new Map([['prod', v(1000)], ['prod.web', v(1000)]]) });
const cpuOf = (u: QueueUsage | undefined, q: string) => u?.allocated.get(q)?.[0] ?? 0;

describe('withExtraUsage', () => {
  it('adds per path and leaves the base untouched', () => {
    const b = base();
    const extra = new Map([['prod', v(500)], ['prod.web', v(500)], ['batch', v(200, 10)]]);
    const u = withExtraUsage(b, extra);
    expect(cpuOf(u, 'prod')).toBe(1500);
    expect(cpuOf(u, 'prod.web')).toBe(1500);
    expect(Array.from(u.allocated.get('batch')!)).toEqual([200, 10]);
    expect(cpuOf(b, 'prod')).toBe(1000);
    expect(u.capacity).toBe(b.capacity);
  });

  it('returns the base itself when there is nothing to add', () => {
    const b = base();
    expect(withExtraUsage(b, new Map())).toBe(b);
  });
});

describe('InFlightUsage', () => {
  it('counts a started job on its queue and every prefix until two usage updates after it is done', () => {
    const f = new InFlightUsage();
    f.start('prod.web', v(300));
    expect(cpuOf(f.over(base()), 'prod.web')).toBe(1300);
    expect(cpuOf(f.over(base()), 'prod')).toBe(1300);
    f.done('prod.web', v(300));
    f.onUpdate(); // may be a reply to a request sent before the commit
    expect(cpuOf(f.over(base()), 'prod.web')).toBe(1300);
    f.onUpdate();
    expect(cpuOf(f.over(base()), 'prod.web')).toBe(1000);
    expect(cpuOf(f.over(base()), 'prod')).toBe(1000);
  });

  it('keeps jobs still working, removes only the finished ones', () => {
    const f = new InFlightUsage();
    f.start('batch', v(100));
    f.start('batch', v(200));
    f.done('batch', v(100));
    f.onUpdate();
    f.onUpdate();
    expect(cpuOf(f.over(base()), 'batch')).toBe(200);
  });

  it('has nothing to add to no usage', () => {
    const f = new InFlightUsage();
    f.start('batch', v(100));
    expect(f.over(undefined)).toBeUndefined();
  });
});
