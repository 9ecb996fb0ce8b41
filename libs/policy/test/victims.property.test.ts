import fc from 'fast-check';
import { ResourceSpace, type Preemptor, type QuotaUsage, type RunningTask } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { selectVictims, type PreemptionNode } from '../src/index.ts';

const space = ResourceSpace.of(['cpu_millis']);
const QUEUES = ['a', 'b'];

describe('victim selection (property)', () => {
  it('never over-commits a node, evicts a task twice, or pushes a queue below guaranteed by reclaim', () => {
    const task = fc.record({ cpu: fc.integer({ min: 1, max: 4 }), priority: fc.integer({ min: 0, max: 120 }), pre: fc.boolean(), q: fc.constantFrom(...QUEUES) });
    fc.assert(fc.property(
      fc.array(fc.array(task, { maxLength: 4 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.record({ cpu: fc.integer({ min: 1, max: 6 }), priority: fc.integer({ min: 0, max: 120 }), q: fc.constantFrom(...QUEUES) }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 6 }),
      (nodeTasks, asks, guaranteed) => {
        const alloc = new Map(QUEUES.map((q) => [q, 0]));
        const nodes: PreemptionNode[] = nodeTasks.map((ts, i) => {
          const tasks: RunningTask[] = ts.map((t, k) => ({ taskId: `v${i}-${k}/t/0`, jobId: `v${i}-${k}`, demand: space.vector({ cpu_millis: t.cpu }), priority: t.priority, queue: t.q, preemptible: t.pre, startedAt: 0 }));
          let used = 0;
          for (const t of tasks) {
            used += t.demand[0];
            if (!t.preemptible) alloc.set(t.queue, alloc.get(t.queue)! + t.demand[0]);
          }
          return { id: `n${i}`, capacity: space.vector({ cpu_millis: Math.max(8, used) }), allocated: space.vector({ cpu_millis: used }), tasks };
        });
        const quota: QuotaUsage = { cellCapacity: space.vector({ cpu_millis: 100 }), queues: new Map(QUEUES.map((q) => [q, { allocated: space.vector({ cpu_millis: alloc.get(q)! }), guaranteed: space.vector({ cpu_millis: guaranteed }), weight: 1 }])) };
        const preemptors: Preemptor[] = asks.map((a, i) => ({ taskId: `p/t/${i}`, jobId: 'p', demand: space.vector({ cpu_millis: a.cpu }), priority: a.priority, queue: a.q, preemptible: false }));
        const r = selectVictims(nodes, preemptors, { priorityGap: 10, minRuntimeMs: 0 }, 1_000, { quota });
        if (!r.ok) return;
        // Replays the choices in order against the committer's queue usage: a choice's reclaim
        // victims must leave their queue at or above guaranteed (as it stands when that choice is
        // made: placed preemptors count for their queue, earlier evictions no longer do).
        const seen = new Set<string>();
        const used = new Map(nodes.map((n) => [n.id, n.allocated[0]]));
        const usage = new Map(alloc);
        for (const c of r.choices) {
          const reclaimedNow = new Map<string, number>();
          for (const v of c.victims) {
            expect(seen.has(v.task.taskId)).toBe(false);
            seen.add(v.task.taskId);
            used.set(c.nodeId, used.get(c.nodeId)! - v.task.demand[0]);
            if (v.cause === 'reclaim') reclaimedNow.set(v.task.queue, (reclaimedNow.get(v.task.queue) ?? 0) + v.task.demand[0]);
          }
          for (const [q, amount] of reclaimedNow) expect(usage.get(q)! - amount).toBeGreaterThanOrEqual(guaranteed);
          for (const v of c.victims) if (!v.task.preemptible) usage.set(v.task.queue, usage.get(v.task.queue)! - v.task.demand[0]);
          const p = preemptors.find((x) => x.taskId === c.taskId)!;
          used.set(c.nodeId, used.get(c.nodeId)! + p.demand[0]);
          usage.set(p.queue, usage.get(p.queue)! + p.demand[0]);
        }
        for (const n of nodes) expect(used.get(n.id)!).toBeLessThanOrEqual(n.capacity[0]);
      },
    ), { numRuns: 300 });
  });
});
