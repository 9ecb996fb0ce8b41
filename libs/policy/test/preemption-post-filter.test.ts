import { parseQueueFile, quotaUsageOf, SchedulerView, type NodeSnapshot, type RunningTask, type TaskRequest } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createPipeline, createRng, placeJob, PREEMPTION, type PlaceOptions, type PlacementJob } from '../src/index.ts';
import { space } from './builders.ts';

const NOW = 100_000;
const v = (cpu: number) => space.vector({ cpu_millis: cpu });
const running = (taskId: string, priority: number, preemptible = false): RunningTask =>
  ({ taskId, jobId: taskId.split('/')[0], demand: v(1000), priority, queue: 'batch', preemptible, startedAt: 0 });

/** Nodes of 1000 cpu, each full with its one task. */
function fullView(...tasks: RunningTask[]): SchedulerView {
  const view = new SchedulerView(space, 1);
  const nodes: NodeSnapshot[] = tasks.map((t, i) => ({
    id: `n${i + 1}`, partition: 0, labels: { zone: i === 0 ? 'a' : 'b' }, capacity: v(1000), allocated: v(1000), condition: 'ready', version: 1, tasks: [t],
  }));
  view.applySync({ partition: 0, version: 1, kind: 'snapshot', nodes }, NOW);
  return view;
}

const task = (id: string, over: Partial<TaskRequest> = {}): TaskRequest =>
  ({ id, jobId: id.split('/')[0], group: 't', index: 0, demand: v(1000), priority: 100, ...over });

function place(view: SchedulerView, tasks: TaskRequest[], job: PlacementJob, args: Record<string, unknown> = {}, quota?: PlaceOptions['quota']) {
  const pipeline = createPipeline({ scorers: ['binpack'], postFilters: [{ name: PREEMPTION, args }] }, { space });
  const opts: PlaceOptions = { mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: NOW, rng: createRng(1), pipeline, job, ...(quota === undefined ? {} : { quota }) };
  return placeJob(view, tasks, opts);
}

describe('the preemption post-filter', () => {
  it('reclaims at equal priority only with the queue usage: prod below its guarantee takes from batch above its own', () => {
    const tree = parseQueueFile({ queues: [{ name: 'prod', guaranteed: { cpu_millis: 1000 } }, { name: 'batch' }] }, space);
    if (!tree.ok) throw new Error(tree.error.path);
    const capacity = v(2000);
    const quota = quotaUsageOf(tree.tree, new Map([['batch', v(2000)]]), capacity);
    expect(quota).toBeDefined();
    const view = () => fullView(running('b/t/0', 100), running('b/t/1', 100));
    const half = task('hi/t/0', { demand: v(500) });
    expect(place(view(), [half], { id: 'hi', queue: 'prod', priority: 100 }).evictions).toEqual([]);
    const r = place(view(), [half], { id: 'hi', queue: 'prod', priority: 100 }, {}, quota);
    expect(r.evictions).toHaveLength(1);
    expect(r.evictions[0].taskId).toMatch(/^b\/t\//);
    // No guarantee anywhere: nothing to reclaim by.
    const flat = parseQueueFile({ queues: [{ name: 'prod' }, { name: 'batch' }] }, space);
    if (!flat.ok) throw new Error(flat.error.path);
    expect(quotaUsageOf(flat.tree, new Map(), capacity)).toBeUndefined();
  });

  it('places a task that fits nowhere next to the eviction of the least important victim', () => {
    const r = place(fullView(running('mid/t/0', 80), running('pre/t/0', 500, true)), [task('hi/t/0')], { id: 'hi', queue: 'prod', priority: 100 });
    expect(r.placements[0]).toMatchObject({ ok: true, node: { id: 'n2' }, evictions: [{ taskId: 'pre/t/0', nodeId: 'n2' }] });
    expect(r.evictions).toEqual([{ taskId: 'pre/t/0', nodeId: 'n2' }]);
    expect(r.claims.map((c) => [c.taskId, c.nodeId])).toEqual([['hi/t/0', 'n2']]);
  });

  it('two tasks of one call take two victims, never the same one', () => {
    const r = place(fullView(running('lo/t/0', 10), running('lo/t/1', 10)), [task('hi/t/0'), task('hi/t/1', { index: 1 })], { id: 'hi', priority: 100 });
    expect(r.evictions.map((e) => e.taskId).sort()).toEqual(['lo/t/0', 'lo/t/1']);
    expect(new Set(r.claims.map((c) => c.nodeId)).size).toBe(2);
  });

  it.each([
    { name: 'a preemptible job never preempts', job: { id: 'hi', priority: 100, preemptible: true }, t: task('hi/t/0') },
    { name: 'the gap is not reached', job: { id: 'hi', priority: 100 }, t: task('hi/t/0', { priority: 89 }) },
    { name: 'room is not the problem (constraints match no node with victims)', job: { id: 'hi', priority: 100 }, t: task('hi/t/0', { constraints: [{ label: 'zone', op: 'in', values: ['c'] }] }) },
  ])('no preemption: $name', ({ job, t }) => {
    const r = place(fullView(running('lo/t/0', 80)), [t], job);
    expect(r.placements[0].ok).toBe(false);
    expect(r.evictions).toEqual([]);
  });

  it('replicas walk candidates from their own seeded start, home partitions first, so they pick different victims', () => {
    // 4 partitions of 50 nodes, each full with one equal victim; 1 candidate per call.
    const view = new SchedulerView(space, 4);
    for (let p = 0; p < 4; p++) {
      const nodes: NodeSnapshot[] = Array.from({ length: 50 }, (_, i) => ({
        id: `p${p}n${i}`, partition: p, labels: {}, capacity: v(1000), allocated: v(1000), condition: 'ready', version: 1, tasks: [running(`lo${p}_${i}/t/0`, 10)],
      }));
      view.applySync({ partition: p, version: 1, kind: 'snapshot', nodes }, NOW);
    }
    const pipeline = createPipeline({ scorers: ['binpack'], postFilters: [{ name: PREEMPTION, args: { maxCandidates: 1 } }] }, { space });
    const victimOf = (seed: number, homePartitions?: boolean[]) => {
      const r = placeJob(view, [task('hi/t/0')], { mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: NOW, rng: createRng(seed), pipeline, job: { id: 'hi', priority: 100 }, ...(homePartitions === undefined ? {} : { homePartitions }) });
      expect(r.evictions).toHaveLength(1);
      return r.evictions[0].nodeId;
    };
    const picks = new Set(Array.from({ length: 8 }, (_, seed) => victimOf(seed + 1)));
    expect(picks.size).toBeGreaterThan(4);
    for (let seed = 1; seed <= 8; seed++) expect(victimOf(seed, [false, false, true, false])).toMatch(/^p2n/);
  });

  it('bounds preempting placements per second (per scheduler)', () => {
    const view = fullView(running('lo/t/0', 10), running('lo/t/1', 10));
    const pipeline = createPipeline({ scorers: ['binpack'], postFilters: [{ name: PREEMPTION, args: { maxPerSecond: 1 } }] }, { space });
    const at = (now: number, id: string) => placeJob(view, [task(id)], { mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now, rng: createRng(1), pipeline, job: { id: id.split('/')[0], priority: 100 } });
    expect(at(NOW, 'a/t/0').evictions).toHaveLength(1);
    expect(at(NOW + 10, 'b/t/0').evictions).toHaveLength(0);
    expect(at(NOW + 1_000, 'c/t/0').evictions).toHaveLength(1);
  });

  it('refuses bad args', () => {
    expect(() => createPipeline({ scorers: ['binpack'], postFilters: [{ name: PREEMPTION, args: { priorityGap: -1 } }] }, { space })).toThrow(/preemption/);
  });
});
