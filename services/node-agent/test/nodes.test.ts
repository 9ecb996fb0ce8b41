import { describe, expect, it } from 'vitest';
import { chunks, machineNodes, restrictCapacity, topologyLabels, virtualNodes, type AgentNode } from '../src/core/nodes.ts';

describe('virtualNodes', () => {
  it('makes ids from prefix and ordinal, with the given capacity', () => {
    const n = virtualNodes({ count: 3, offset: 10, prefix: 'x-', capacity: { cpu_millis: 1000 } });
    expect(n.map((x) => x.id)).toEqual(['x-000010', 'x-000011', 'x-000012']);
    expect(n[0].capacity).toEqual({ cpu_millis: 1000 });
  });

  it('assigns zone and rack deterministically: racks of rackSize, dealt round-robin over zones', () => {
    const n = virtualNodes({ count: 10, capacity: {}, zones: ['a', 'b', 'c'], rackSize: 2 });
    expect(n.map((x) => `${x.labels.zone}/${x.labels.rack}`)).toEqual([
      'a/r0', 'a/r0', 'b/r1', 'b/r1', 'c/r2', 'c/r2', 'a/r3', 'a/r3', 'b/r4', 'b/r4',
    ]);
    // Same ordinal → same labels, whichever agent hosts it.
    const split = virtualNodes({ count: 4, offset: 6, capacity: {}, zones: ['a', 'b', 'c'], rackSize: 2 });
    expect(split.map((x) => x.labels)).toEqual(n.slice(6).map((x) => x.labels));
  });

  it('gives every zone a share of a large cell', () => {
    const n = virtualNodes({ count: 10_000, capacity: { cpu_millis: 1 }, zones: ['a', 'b', 'c'] });
    const per = new Map<string, number>();
    for (const x of n) per.set(x.labels.zone, (per.get(x.labels.zone) ?? 0) + 1);
    expect([...per.keys()].sort()).toEqual(['a', 'b', 'c']);
    for (const v of per.values()) expect(v).toBeGreaterThan(3000);
    expect(new Set(n.map((x) => x.id)).size).toBe(10_000);
  });

  it.each([
    [{ count: -1, capacity: {} }],
    [{ count: 1.5, capacity: {} }],
    [{ count: 1, capacity: {}, zones: [] }],
    [{ count: 1, capacity: {}, rackSize: 0 }],
  ])('refuses bad options %j', (opts) => {
    expect(() => virtualNodes(opts)).toThrow(RangeError);
  });
});

describe('machineNodes', () => {
  const recs: AgentNode[] = [0, 1, 2, 3].map((i) => ({ id: `m${i}`, labels: (i === 0 ? { zone: 'z9' } : {}) as Record<string, string>, capacity: { cpu_millis: 64_000, disk: 1 } }));
  it('slices by offset/count and keeps the file own labels over synthetic ones', () => {
    const out = machineNodes(recs, { offset: 0, count: 2, zones: ['a', 'b'], rackSize: 1 });
    expect(out.map((x) => [x.id, x.labels.zone, x.labels.rack])).toEqual([['m0', 'z9', 'r0'], ['m1', 'b', 'r1']]);
    expect(machineNodes(recs, { offset: 3 }).map((x) => x.id)).toEqual(['m3']);
  });
  it('restrictCapacity drops resources outside the space', () => {
    expect(restrictCapacity(recs[0].capacity, ['cpu_millis', 'mem_mib'])).toEqual({ cpu_millis: 64_000 });
  });
});

describe('chunks / topologyLabels', () => {
  it('splits into batches of at most size', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 3)).toEqual([]);
    expect(() => chunks([1], 0)).toThrow(RangeError);
  });
  it('defaults to 40 nodes per rack over zones a-d', () => {
    expect(topologyLabels(0)).toEqual({ zone: 'a', rack: 'r0' });
    expect(topologyLabels(40)).toEqual({ zone: 'b', rack: 'r1' });
    expect(topologyLabels(160)).toEqual({ zone: 'a', rack: 'r4' });
  });
});
