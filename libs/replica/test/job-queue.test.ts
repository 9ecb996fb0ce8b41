import { parseQueueFile, ResourceSpace, type ResourceVector } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { DrfQueue, FifoQueue, type QueuedJob, type QueueUsage } from '../src/index.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib']);
const v = (cpu: number, mem = 0): ResourceVector => space.vector({ cpu_millis: cpu, mem_mib: mem });
const capacity = v(1000, 1000);
const usage = (alloc: Record<string, [number, number]>): QueueUsage => ({ capacity, allocated: new Map(Object.entries(alloc).map(([q, [c, m]]) => [q, v(c, m)])) });
const job = (id: string, queue: string, priority = 100, submittedAt = 0, need?: ResourceVector): QueuedJob => ({ id, queue, priority, submittedAt, ...(need === undefined ? {} : { need }) });

function tree(file: unknown) {
  const r = parseQueueFile(file, space);
  if (!r.ok) throw new Error(r.error.path);
  return r.tree;
}

function drain(q: DrfQueue, u: QueueUsage | undefined, n = 100): string[] {
  const out: string[] = [];
  for (let j = q.next(u); j !== undefined && out.length < n; j = q.next(u)) out.push(j.id);
  return out;
}

describe('DrfQueue order', () => {
  const flat = tree({ queues: [{ name: 'a' }, { name: 'b' }, { name: 'heavy', weight: 4 }] });
  const rows: [string, QueuedJob[], QueueUsage | undefined, string[]][] = [
    ['lowest dominant share first (memory dominates a)', [job('a1', 'a'), job('b1', 'b')], usage({ a: [100, 500], b: [300, 0] }), ['b1', 'a1']],
    ['weight divides the share', [job('a1', 'a'), job('h1', 'heavy')], usage({ a: [200, 0], heavy: [600, 0] }), ['h1', 'a1']],
    ['within a queue: priority, then submit time', [job('x', 'a', 100, 5), job('y', 'a', 200, 9), job('z', 'a', 100, 1)], usage({}), ['y', 'z', 'x']],
    ['equal shares alternate', [job('a1', 'a'), job('a2', 'a'), job('b1', 'b'), job('b2', 'b')], usage({}), ['a1', 'b1', 'a2', 'b2']],
    ['no usage: still one per queue in turn', [job('a1', 'a'), job('a2', 'a'), job('b1', 'b')], undefined, ['a1', 'b1', 'a2']],
    ['an unknown queue is a top-level queue of weight 1', [job('u1', 'elsewhere'), job('a1', 'a')], usage({ a: [10, 0] }), ['u1', 'a1']],
  ];
  it.each(rows)('%s', (_name, jobs, u, want) => {
    const q = new DrfQueue(space, flat);
    for (const j of jobs) q.push(j);
    expect(drain(q, u)).toEqual(want);
  });

  it('is hierarchical: the level above decides first', () => {
    const t = tree({ queues: [{ name: 'p', queues: [{ name: 'x' }, { name: 'y' }] }, { name: 'q' }] });
    const q = new DrfQueue(space, t);
    for (const j of [job('x1', 'p.x'), job('q1', 'q'), job('y1', 'p.y')]) q.push(j);
    // p (x + y = 400) is above q (300): q first although p.y alone (0) is lowest of all leaves.
    expect(drain(q, usage({ 'p.x': [400, 0], p: [400, 0], q: [300, 0] }))).toEqual(['q1', 'y1', 'x1']);
  });

  it('serves a queue below its guaranteed quota before fair share among the rest, the furthest below first', () => {
    const t = tree({
      queues: [
        { name: 'big', weight: 4 },
        { name: 'small', guaranteed: { cpu_millis: 300 } },
        { name: 'tiny', guaranteed: { cpu_millis: 100, mem_mib: 100 } },
      ],
    });
    const order = (u: QueueUsage) => {
      const q = new DrfQueue(space, t);
      for (const j of [job('b1', 'big'), job('s1', 'small'), job('t1', 'tiny')]) q.push(j);
      return drain(q, u);
    };
    // big's weighted share (0.025) is lowest, but small (2/3 of its guarantee) and tiny (1/2 on memory) are below theirs.
    expect(order(usage({ big: [100, 0], small: [200, 0], tiny: [10, 50] }))).toEqual(['t1', 's1', 'b1']);
    // At (or past) its guarantee a queue is ordered by weighted share like any other.
    expect(order(usage({ big: [100, 0], small: [300, 0], tiny: [100, 100] }))).toEqual(['b1', 't1', 's1']);
  });

  it('skips a queue at its max without blocking the others (no head-of-line blocking)', () => {
    const t = tree({ queues: [{ name: 'capped', max: { cpu_millis: 500 } }, { name: 'free' }] });
    const q = new DrfQueue(space, t);
    q.push(job('c1', 'capped', 100, 0, v(200)));
    q.push(job('f1', 'free', 100, 1, v(200)));
    const u = usage({ capped: [400, 0], free: [900, 0] });
    expect(q.next(u)?.id).toBe('f1');
    expect(q.next(u)).toBeUndefined();
    expect(q.size).toBe(1);
    expect(q.next(usage({ capped: [300, 0] }))?.id).toBe('c1');
  });
});

describe('FifoQueue', () => {
  it('keeps arrival order whatever the usage, and removes by id', () => {
    const q = new FifoQueue();
    for (const j of [job('1', 'b'), job('2', 'a', 999), job('3', 'b')]) q.push(j);
    expect(q.remove('2')).toBe(true);
    expect([q.next()?.id, q.next()?.id, q.next()]).toEqual(['1', '3', undefined]);
  });
});
