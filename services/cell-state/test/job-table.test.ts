import { describe, expect, it } from 'vitest';
import { JobTable, jobListingOf, jobStateOf, parseTaskId } from '../src/core/job-table.ts';
import { spec } from './builders.ts';

describe('parseTaskId', () => {
  it.each([
    ['job/group/0', { jobId: 'job', group: 'group', index: 0 }],
    ['j.1:x/map/17', { jobId: 'j.1:x', group: 'map', index: 17 }],
    ['job/group/01', undefined],
    ['job/group/-1', undefined],
    ['job/group/', undefined],
    ['/group/1', undefined],
    ['job//1', undefined],
    ['job/1', undefined],
    ['job', undefined],
    ['job/a/b/1', { jobId: 'job', group: 'a/b', index: 1 }],
  ])('%s', (id, want) => {
    expect(parseTaskId(id)).toEqual(want);
  });
});

describe('JobTable', () => {
  const none = () => undefined;

  it('accepts a job once, with every task pending, and finds tasks by id', () => {
    const t = new JobTable();
    const j = t.accept(spec('j', [{ name: 'a', count: 2 }, { name: 'b', count: 1 }]), 10, none)!;
    expect(j.taskState).toEqual(new Uint8Array([0, 0, 0]));
    expect(t.accept(spec('j', [{ name: 'a', count: 5 }]), 11, none)).toBeUndefined();
    expect(t.task('j/b/0')).toMatchObject({ slot: 2, group: { name: 'b' } });
    expect(t.task('j/b/1')).toBeUndefined();
    expect(t.task('j/c/0')).toBeUndefined();
    expect(t.task('other/a/0')).toBeUndefined();
  });

  it('takes tasks committed before the job was read as placed', () => {
    const t = new JobTable();
    const j = t.accept(spec('j', [{ name: 'a', count: 2 }]), 10, (id) => (id === 'j/a/1' ? 'n7' : undefined))!;
    expect(jobListingOf(j).tasks).toEqual([
      { id: 'j/a/0', name: 'a', state: 'pending' },
      { id: 'j/a/1', name: 'a', state: 'placed', node: 'n7' },
    ]);
  });

  it('lists a window of a job\'s tasks across groups, with the total and the counts per state over all', () => {
    const t = new JobTable();
    const j = t.accept(spec('w', [{ name: 'a', count: 2 }, { name: 'b', count: 3 }]), 10, (id) => (id === 'w/b/0' ? 'n1' : undefined))!;
    const l = jobListingOf(j, 1, 3);
    expect(l.tasks).toEqual([{ id: 'w/a/1', name: 'a', state: 'pending' }, { id: 'w/b/0', name: 'b', state: 'placed', node: 'n1' }]);
    expect(l).toMatchObject({ taskTotal: 5, taskStates: { pending: 4, placed: 1 } });
    expect(jobListingOf(j, 0, 0).tasks).toEqual([]);
    expect(jobListingOf(j, 4, 99).tasks.map((x) => x.id)).toEqual(['w/b/2']);
    expect(jobListingOf(j, 9).tasks).toEqual([]);
  });

  it.each([
    // [transitions, state]
    [[], 'pending'],
    [[['place', 0]], 'pending'],
    [[['place', 0], ['place', 1]], 'placed'],
    [[['place', 0], ['run', 0]], 'running'],
    [[['place', 0], ['end', 0, 'succeeded']], 'running'],
    [[['place', 0], ['place', 1], ['end', 0, 'succeeded'], ['end', 1, 'succeeded']], 'finished'],
    [[['place', 0], ['place', 1], ['end', 0, 'failed'], ['end', 1, 'succeeded']], 'failed'],
    [[['outcome', 'unschedulable']], 'unschedulable'],
    [[['place', 0], ['outcome', 'unschedulable']], 'unschedulable'],
    [[['place', 0], ['place', 1], ['end', 0, 'succeeded'], ['end', 1, 'succeeded'], ['outcome', 'unschedulable']], 'finished'],
    [[['place', 0], ['return', 0]], 'pending'],
  ] as const)('%j → %s', (steps, want) => {
    const t = new JobTable();
    const j = t.accept(spec('j', [{ name: 'a', count: 2 }]), 10, none)!;
    for (const s of steps) {
      const id = `j/a/${s[1]}`;
      if (s[0] === 'place') t.taskPlaced(id, 'n1', 20);
      else if (s[0] === 'run') t.taskRunning(id);
      else if (s[0] === 'end') t.taskEnded(id, s[2]);
      else if (s[0] === 'return') t.taskFailed(id, 'node n1 lost');
      else t.setOutcome('j', s[1], 'because');
    }
    expect(jobStateOf(j)).toBe(want);
  });

  it('stamps placedAt when the last task is first placed, and keeps it', () => {
    const t = new JobTable();
    const j = t.accept(spec('j', [{ name: 'a', count: 2 }]), 10, none)!;
    t.taskPlaced('j/a/0', 'n1', 20);
    expect(j.placedAt).toBeUndefined();
    t.taskPlaced('j/a/1', 'n1', 30);
    expect(j.placedAt).toBe(30);
    t.taskFailed('j/a/1', 'node n1 lost');
    t.taskPlaced('j/a/1', 'n2', 40);
    expect(j.placedAt).toBe(30);
  });

  it('stamps placedAt with the last commit time of tasks committed before the job was read', () => {
    const t = new JobTable();
    const placed = new Map<string, string>();
    t.taskPlaced('j/a/0', 'n1', 20);
    placed.set('j/a/0', 'n1');
    t.taskPlaced('j/a/1', 'n2', 35);
    placed.set('j/a/1', 'n2');
    t.taskPlaced('other/a/0', 'n1', 50);
    expect(t.earlyPlacedAtList()).toEqual([['j', 35], ['other', 50]]);
    const j = t.accept(spec('j', [{ name: 'a', count: 2 }]), 10, (id) => placed.get(id))!;
    expect(j.placedAt).toBe(35);
    expect(t.earlyPlacedAtList()).toEqual([['other', 50]]);
    // Partly placed on arrival: placed when the last pending task is committed.
    t.taskPlaced('k/a/0', 'n1', 60);
    const k = t.accept(spec('k', [{ name: 'a', count: 2 }]), 55, (id) => (id === 'k/a/0' ? 'n1' : undefined))!;
    expect(k.placedAt).toBeUndefined();
    t.taskPlaced('k/a/1', 'n1', 70);
    expect(k.placedAt).toBe(70);
    // Restored from a snapshot: the same.
    const r = new JobTable();
    r.restoreEarlyPlacedAt('other', 50);
    expect(r.accept(spec('other', [{ name: 'a', count: 1 }]), 40, () => 'n1')!.placedAt).toBe(50);
  });

  it('only marks placed tasks running, and never brings an ended task back', () => {
    const t = new JobTable();
    t.accept(spec('j', [{ name: 'a', count: 1 }]), 10, none);
    expect(t.taskRunning('j/a/0')).toBe(false);
    t.taskPlaced('j/a/0', 'n1', 20);
    expect(t.taskRunning('j/a/0')).toBe(true);
    expect(t.taskRunning('j/a/0')).toBe(false);
    t.taskEnded('j/a/0', 'succeeded');
    expect(t.isTaskEnded('j/a/0')).toBe(true);
    t.taskFailed('j/a/0', 'node n1 lost');
    expect(t.isTaskEnded('j/a/0')).toBe(true);
  });

  it('keeps an outcome reported before the job arrived', () => {
    const t = new JobTable();
    t.setOutcome('early', 'unschedulable', 'no gpu anywhere');
    const j = t.accept(spec('early', [{ name: 'a', count: 1 }]), 10, none)!;
    expect(jobListingOf(j)).toMatchObject({ state: 'unschedulable', reason: 'no gpu anywhere' });
  });

  it('lists an invalid job as failed with its validation message, and a failed task as the reason', () => {
    const t = new JobTable();
    const bad = t.acceptInvalid('bad', 'team', 5, 'tasks[0].count: too big')!;
    expect(jobListingOf(bad)).toEqual({ id: 'bad', tenant: 'team', state: 'failed', reason: 'tasks[0].count: too big', submittedAt: 5, tasks: [], taskTotal: 0, taskStates: {} });
    const j = t.accept(spec('j', [{ name: 'a', count: 1 }]), 10, none)!;
    t.taskPlaced('j/a/0', 'n1', 20);
    t.taskEnded('j/a/0', 'failed', 'exit 2');
    expect(jobListingOf(j)).toMatchObject({ state: 'failed', reason: 'task j/a/0 failed: exit 2', placedAt: 20 });
  });
});
