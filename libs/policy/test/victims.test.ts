import { ResourceSpace, victimCause, type PreemptionPolicy, type Preemptor, type QuotaUsage } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { pickCandidate, selectVictims, PreemptionReason, type PreemptionNode, type VictimTask } from '../src/index.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib']);
const v = (cpu: number, mem = 0) => space.vector({ cpu_millis: cpu, mem_mib: mem });
const NOW = 1_000_000;
const policy: PreemptionPolicy = { priorityGap: 10, minRuntimeMs: 30_000 };

/** A running task: `id`, cpu, priority; preemptible, queue, start (ms before NOW) and job optional. */
function task(id: string, cpu: number, priority: number, o: { pre?: boolean; queue?: string; ageMs?: number; job?: string } = {}): VictimTask {
  return { taskId: id, jobId: o.job ?? `job-${id}`, demand: v(cpu), priority, queue: o.queue ?? 'batch', preemptible: o.pre ?? false, startedAt: NOW - (o.ageMs ?? 60_000) };
}
/** A node of `cap` cpu, full with `tasks`. */
function node(id: string, cap: number, tasks: VictimTask[]): PreemptionNode {
  const allocated = v(0);
  for (const t of tasks) allocated[0] += t.demand[0];
  return { id, capacity: v(cap), allocated, tasks };
}
const preemptor = (cpu: number, priority = 100, o: { queue?: string; pre?: boolean; id?: string; job?: string } = {}): Preemptor =>
  ({ taskId: o.id ?? 'p/t/0', jobId: o.job ?? 'p', demand: v(cpu), priority, queue: o.queue ?? 'prod', preemptible: o.pre ?? false });

function pick(nodes: PreemptionNode[], p: Preemptor, extra: Parameters<typeof selectVictims>[4] = {}) {
  const r = selectVictims(nodes, [p], policy, NOW, extra);
  return r.ok ? { node: r.choices[0].nodeId, victims: r.choices[0].victims.map((x) => x.task.taskId) } : r.reason;
}

describe('victimCause (eligibility)', () => {
  const cases: { name: string; victim: VictimTask; p?: Preemptor; want: ReturnType<typeof victimCause> }[] = [
    { name: 'preemptible task, any priority', victim: task('a', 1, 500, { pre: true }), want: 'preemptible' },
    { name: 'lower by exactly the gap', victim: task('a', 1, 90), want: 'priority' },
    { name: 'lower by less than the gap', victim: task('a', 1, 91), want: undefined },
    { name: 'same job never', victim: task('a', 1, 0, { pre: true, job: 'p' }), want: undefined },
    { name: 'younger than min runtime', victim: task('a', 1, 0, { pre: true, ageMs: 29_999 }), want: undefined },
    { name: 'exactly min runtime', victim: task('a', 1, 0, { pre: true, ageMs: 30_000 }), want: 'preemptible' },
    { name: 'a preemptible preemptor never preempts', victim: task('a', 1, 0, { pre: true }), p: preemptor(1, 100, { pre: true }), want: undefined },
    { name: 'a task of a gang never (the rest of the gang would run without it)', victim: { ...task('a', 1, 0, { pre: true }), gang: true }, want: undefined },
  ];
  it.each(cases)('$name', ({ victim, p, want }) => {
    expect(victimCause(victim, p ?? preemptor(1), policy, NOW)).toBe(want);
  });
});

describe('victims on one node (kube SelectVictimsOnNode)', () => {
  it('evicts the fewest, least important tasks that make room', () => {
    const n = node('n1', 4, [task('hi', 1, 80), task('lo', 1, 10), task('mid', 1, 50), task('lo2', 1, 10, { ageMs: 90_000 })]);
    // 2 cpu needed: the two priority-10 tasks go, the more important ones are given back.
    expect(pick([n], preemptor(2))).toEqual({ node: 'n1', victims: ['lo2', 'lo'] });
  });
  it('evicts preemptible tasks before non-preemptible ones of any priority', () => {
    const n = node('n1', 3, [task('np', 1, 0), task('pre', 1, 90, { pre: true }), task('np2', 1, 0)]);
    expect(pick([n], preemptor(1))).toEqual({ node: 'n1', victims: ['pre'] });
  });
  it('gives tasks back by importance, not size (kube reprieve order)', () => {
    expect(pick([node('n1', 4, [task('big', 3, 20), task('small', 1, 10)])], preemptor(1))).toEqual({ node: 'n1', victims: ['small'] });
    expect(pick([node('n1', 4, [task('big', 3, 10), task('small', 1, 20)])], preemptor(1))).toEqual({ node: 'n1', victims: ['big'] });
  });
  it('no room even with every eligible task gone', () => {
    const n = node('n1', 4, [task('a', 2, 95), task('b', 2, 10)]);
    expect(pick([n], preemptor(3))).toBe(PreemptionReason.no_victims);
  });
  it('young tasks are kept (min runtime)', () => {
    const n = node('n1', 2, [task('young', 2, 0, { pre: true, ageMs: 1_000 })]);
    expect(pick([n], preemptor(1))).toBe(PreemptionReason.no_victims);
  });
  it('nodes refused by nodeAllows are not candidates', () => {
    const nodes = [node('n1', 1, [task('a', 1, 0)]), node('n2', 1, [task('b', 1, 0)])];
    expect(pick(nodes, preemptor(1), { nodeAllows: (x) => x.id !== 'n1' })).toEqual({ node: 'n2', victims: ['b'] });
  });
});

describe('node order (kube pickOneNodeForPreemption)', () => {
  const cases: { name: string; nodes: PreemptionNode[]; need: number; want: string }[] = [
    { name: 'fewest violations', need: 1, nodes: [node('n1', 1, [task('a', 1, 0)]), node('n2', 1, [task('b', 1, 90, { pre: true })])], want: 'n2' },
    { name: 'lowest highest-victim priority', need: 1, nodes: [node('n1', 1, [task('a', 1, 50)]), node('n2', 1, [task('c', 1, 40)])], want: 'n2' },
    { name: 'lowest sum of priorities', need: 2, nodes: [node('n1', 2, [task('a', 1, 40), task('b', 1, 40)]), node('n2', 2, [task('c', 1, 40), task('d', 1, 1)])], want: 'n2' },
    { name: 'fewest victims', need: 2, nodes: [node('n1', 2, [task('a', 1, 0), task('b', 1, 0)]), node('n2', 2, [task('c', 2, 0)])], want: 'n2' },
    { name: 'most recently started', need: 1, nodes: [node('n1', 1, [task('a', 1, 0, { ageMs: 90_000 })]), node('n2', 1, [task('b', 1, 0, { ageMs: 40_000 })])], want: 'n2' },
    { name: 'full tie: first in visit order', need: 1, nodes: [node('n1', 1, [task('a', 1, 0)]), node('n2', 1, [task('b', 1, 0)])], want: 'n1' },
  ];
  it.each(cases)('$name', ({ nodes, need, want }) => {
    const r = pick(nodes, preemptor(need));
    expect(typeof r === 'string' ? r : r.node).toBe(want);
  });
  it('each criterion only breaks the ties of the one before', () => {
    const victim = (p: number, start: number, pre = false) => ({ task: { ...task('x', 1, p, { pre }), startedAt: start }, cause: 'priority' as const });
    const a = { id: 'a', violations: 0, victims: [victim(50, 0, true)] };
    const b = { id: 'b', violations: 1, victims: [victim(1, 0)] };
    expect(pickCandidate([b, a])?.id).toBe('a');
    const c = { id: 'c', violations: 0, victims: [victim(10, 5, true), victim(10, 9, true)] };
    const d = { id: 'd', violations: 0, victims: [victim(10, 7, true), victim(10, 8, true)] };
    expect(pickCandidate([c, d])?.id).toBe('d');
  });
});

describe('several tasks and gangs', () => {
  it('two tasks never take the same victim or room', () => {
    const nodes = [node('n1', 2, [task('a', 2, 0)]), node('n2', 2, [task('b', 2, 0)])];
    const r = selectVictims(nodes, [preemptor(1, 100, { id: 'p/t/0' }), preemptor(1, 100, { id: 'p/t/1' }), preemptor(2, 100, { id: 'p/t/2' })], policy, NOW);
    expect(r.ok && r.choices.map((c) => [c.taskId, c.nodeId, c.victims.map((x) => x.task.taskId)])).toEqual([
      ['p/t/0', 'n1', ['a']],
      ['p/t/1', 'n1', []], // the room a's eviction left
      ['p/t/2', 'n2', ['b']],
    ]);
  });
  it('a gang gets room for all of its tasks or nothing', () => {
    const nodes = [node('n1', 2, [task('a', 2, 0)])];
    const gang = [preemptor(2, 100, { id: 'p/t/0' }), preemptor(1, 100, { id: 'p/t/1' })];
    expect(selectVictims(nodes, gang, policy, NOW, { allOrNothing: true })).toMatchObject({ ok: false, reason: PreemptionReason.no_victims, taskId: 'p/t/1' });
    const partial = selectVictims(nodes, gang, policy, NOW);
    expect(partial.ok && partial.choices.map((c) => c.taskId)).toEqual(['p/t/0']);
  });
});

describe('reclaim', () => {
  // batch borrows 3 cpu above its guaranteed 1; prod is within its guaranteed 4.
  const quota = (batchAlloc: number, prodAlloc = 0): QuotaUsage => ({
    cellCapacity: v(10),
    queues: new Map([
      ['batch', { allocated: v(batchAlloc), guaranteed: v(1), weight: 1 }],
      ['prod', { allocated: v(prodAlloc), guaranteed: v(4), weight: 1 }],
    ]),
  });
  const batch = (id: string, cpu: number) => task(id, cpu, 100, { queue: 'batch' }); // same priority: only reclaim applies

  it('takes from a queue above guaranteed while the preemptor stays within its own', () => {
    expect(pick([node('n1', 2, [batch('a', 1), batch('b', 1)])], preemptor(1), { quota: quota(4) })).toEqual({ node: 'n1', victims: ['b'] });
  });
  it('never pushes the victim queue below guaranteed', () => {
    // batch holds 2, guaranteed 1: only 1 cpu may be reclaimed, 2 are needed.
    expect(pick([node('n1', 2, [batch('a', 1), batch('b', 1)])], preemptor(2), { quota: quota(2) })).toBe(PreemptionReason.no_victims);
    const r = selectVictims([node('n1', 1, [batch('a', 1)]), node('n2', 1, [batch('b', 1)])],
      [preemptor(1, 100, { id: 'p/t/0' }), preemptor(1, 100, { id: 'p/t/1' })], policy, NOW, { quota: quota(2) });
    expect(r.ok && r.choices.map((c) => c.victims.length)).toEqual([1]); // the second would push batch to 0
  });
  it('not when the preemptor queue would borrow itself', () => {
    expect(pick([node('n1', 1, [batch('a', 1)])], preemptor(1), { quota: quota(4, 4) })).toBe(PreemptionReason.no_victims);
  });
  it('not within one queue', () => {
    expect(pick([node('n1', 1, [batch('a', 1)])], preemptor(1, 100, { queue: 'batch' }), { quota: quota(4) })).toBe(PreemptionReason.no_victims);
  });
});
