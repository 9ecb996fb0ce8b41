import type { PlacementRules, TaskRequest } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { createRng, placeJob, type PlaceOptions } from '../src/index.ts';
import { aNode, aTask, viewOf } from './builders.ts';

const opts = (over: Partial<PlaceOptions> = {}): PlaceOptions => ({ mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: 10_000, rng: createRng(1), job: { id: 'j' }, ...over });
const tasks = (n: number, rules: PlacementRules): TaskRequest[] =>
  Array.from({ length: n }, (_, i) => ({ ...aTask().req({ cpu_millis: 500 }).obj(), id: `j/g/${i}`, jobId: 'j', index: i, rules }));
const zoneView = () => viewOf([{ syncedAt: 9_000, nodes: ['a', 'a', 'b', 'b', 'c'].map((z, i) => aNode(`n${i}`).label('zone', z)) }]);

describe('the placement-rules filter (one placement call books as it goes)', () => {
  it('distinct per node: binpack would stack the tasks, the rule puts each on its own node', () => {
    const r = placeJob(zoneView(), tasks(3, { distinct: { label: 'node', limit: 1 } }), opts());
    expect(new Set(r.claims.map((c) => c.nodeId)).size).toBe(3);
    expect(r.claims.every((c) => c.rules?.distinct?.limit === 1)).toBe(true);
  });

  it('distinct per zone: a fourth task has no zone left and waits (retryable)', () => {
    const r = placeJob(zoneView(), tasks(4, { distinct: { label: 'zone', limit: 1 } }), opts());
    expect(r.claims).toHaveLength(3);
    expect(r.unplaced[0].placement).toMatchObject({ ok: false, retryable: true, reasons: { 'placement rule': 5 } });
  });

  it('spread with skew 1 over three zones: 6 tasks go 2/2/2', () => {
    const r = placeJob(zoneView(), tasks(6, { spread: { label: 'zone', maxSkew: 1 } }), opts());
    const zone = (id: string) => ['a', 'a', 'b', 'b', 'c'][Number(id.slice(1))];
    const per = new Map<string, number>();
    for (const c of r.claims) per.set(zone(c.nodeId), (per.get(zone(c.nodeId)) ?? 0) + 1);
    expect([...per.values()].sort()).toEqual([2, 2, 2]);
  });

  it("counts the job's tasks committed in earlier rounds", () => {
    const r = placeJob(zoneView(), tasks(1, { distinct: { label: 'zone', limit: 1 } }), opts({ job: { id: 'j', placed: new Map([['j/g/9', 'n0'], ['j/g/8', 'n2']]) } }));
    expect(r.claims.map((c) => c.nodeId)).toEqual(['n4']);
  });

  it('anti-affinity with a job the view shows on a node (synced tasks)', () => {
    const view = viewOf([{ syncedAt: 9_000, nodes: [aNode('n0').label('zone', 'a'), aNode('n1').label('zone', 'a'), aNode('n2').label('zone', 'b')] }]);
    view.applySync({ partition: 0, version: 2, kind: 'delta', nodes: [{ ...view.node('n1')!, version: 2, tasks: [{ taskId: 'db/t/0', jobId: 'db', demand: view.node('n1')!.capacity.map(() => 0), priority: 100, queue: 'default', preemptible: false, startedAt: 0 }] }] }, 9_500);
    const r = placeJob(view, tasks(1, { antiAffinity: [{ job: 'db', label: 'zone' }] }), opts());
    expect(r.claims.map((c) => c.nodeId)).toEqual(['n2']);
  });
});
