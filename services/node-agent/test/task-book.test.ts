import { describe, expect, it } from 'vitest';
import type { Assignment } from '@tessera/protocol';
import { REFUSAL, TaskBook } from '../src/core/task-book.ts';

const own = new Set(['n1', 'n2']);
const book = () => new TaskBook((id) => own.has(id), { endedGraceMs: 1000 });
const a = (taskId: string, nodeId = 'n1', extra: Partial<Assignment> = {}): Assignment => ({ taskId, jobId: 'j', nodeId, resources: { cpu_millis: 100 }, ...extra });

describe('TaskBook.admit', () => {
  const cases: { name: string; setup: (b: TaskBook) => void; assignment: Assignment; now?: number; want: string }[] = [
    { name: 'own node, new task', setup: () => {}, assignment: a('t1'), want: 'start' },
    { name: 'foreign node', setup: () => {}, assignment: a('t1', 'other'), want: REFUSAL.notMyNode },
    { name: 'already running on the same node', setup: (b) => b.admit(a('t1'), 0), assignment: a('t1'), want: REFUSAL.alreadyRunning },
    { name: 'already running on another own node', setup: (b) => b.admit(a('t1', 'n2'), 0), assignment: a('t1'), want: REFUSAL.alreadyRunning },
    {
      name: 'ended, report not yet acknowledged',
      setup: (b) => { b.admit(a('t1'), 0); b.finish('t1', { outcome: 'succeeded' }, 10); },
      assignment: a('t1'), now: 100_000, want: REFUSAL.recentlyEnded,
    },
    {
      name: 'ended, acknowledged within the grace period',
      setup: (b) => { b.admit(a('t1'), 0); const e = b.finish('t1', { outcome: 'succeeded' }, 10)!; b.acknowledge([e], 20); },
      assignment: a('t1'), now: 500, want: REFUSAL.recentlyEnded,
    },
    {
      name: 'ended, acknowledged long ago: a new placement may run it again',
      setup: (b) => { b.admit(a('t1'), 0); const e = b.finish('t1', { outcome: 'succeeded' }, 10)!; b.acknowledge([e], 20); },
      assignment: a('t1'), now: 5000, want: 'start',
    },
    {
      name: 'ended on another node: a rescheduled task may start here',
      setup: (b) => { b.admit(a('t1', 'n2'), 0); b.finish('t1', { outcome: 'failed' }, 10); },
      assignment: a('t1'), now: 20, want: 'start',
    },
    {
      name: 'stopped by the cell (no report): may run again',
      setup: (b) => { b.admit(a('t1'), 0); b.stop('t1'); },
      assignment: a('t1'), now: 1, want: 'start',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const b = book();
      c.setup(b);
      const v = b.admit(c.assignment, c.now ?? 0);
      expect(v.verdict === 'start' ? 'start' : v.reason).toBe(c.want);
    });
  }
});

describe('TaskBook bookkeeping', () => {
  it('tracks tasks per node and the running count', () => {
    const b = book();
    b.admit(a('t1', 'n1'), 0);
    b.admit(a('t2', 'n1'), 0);
    b.admit(a('t3', 'n2'), 0);
    expect(b.runningCount).toBe(3);
    expect(b.tasksOn('n1').sort()).toEqual(['t1', 't2']);
    expect(b.tasksOn('n2')).toEqual(['t3']);
    expect(b.tasksOn('n9')).toEqual([]);
    b.stop('t3');
    expect(b.tasksOn('n2')).toEqual([]);
    expect(b.runningCount).toBe(2);
  });

  it('queues ends in order, keeps them until acknowledged, then forgets them after the grace period', () => {
    const b = book();
    for (const t of ['t1', 't2', 't3']) b.admit(a(t), 0);
    b.finish('t2', { outcome: 'failed', exitCode: 3 }, 5);
    b.finish('t1', { outcome: 'succeeded', exitCode: 0 }, 6);
    expect(b.finish('nope', { outcome: 'succeeded' }, 7)).toBeUndefined();
    expect(b.pendingReports).toBe(2);
    const first = b.nextReports(1);
    expect(first.map((e) => [e.taskId, e.outcome, e.exitCode])).toEqual([['t2', 'failed', 3]]);
    // A failed send leaves the outbox as it was.
    expect(b.nextReports(10).map((e) => e.taskId)).toEqual(['t2', 't1']);
    b.acknowledge(first, 10);
    expect(b.nextReports(10).map((e) => e.taskId)).toEqual(['t1']);
    b.acknowledge(b.nextReports(10), 11);
    expect(b.pendingReports).toBe(0);
    b.expire(2000);
    expect(b.admit(a('t2'), 2000).verdict).toBe('start');
  });

  it('a stopped task that later "ends" in the driver queues no report', () => {
    const b = book();
    b.admit(a('t1'), 0);
    b.stop('t1');
    expect(b.finish('t1', { outcome: 'succeeded' }, 1)).toBeUndefined();
    expect(b.pendingReports).toBe(0);
  });
});
