import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Committer, DEFAULT_CLAIM_CHECKS, addQueueUsage, parseQueueFile, quotaCheck, withCheck, type Claim, type Transaction,
} from '../src/index.ts';
import { makeCell, space, vec } from './builders.ts';

// Queues: prod (max 3000 cpu) with children web (max 2000) and api; batch (max 1500); default unbounded.
const tree = (() => {
  const r = parseQueueFile({ queues: [
    { name: 'prod', max: { cpu_millis: 3000 }, queues: [{ name: 'web', max: { cpu_millis: 2000 } }, { name: 'api' }] },
    { name: 'batch', max: { cpu_millis: 1500 } },
  ] }, space);
  if (!r.ok) throw new Error(r.error.path);
  return r.tree;
})();
const LEAVES = ['prod.web', 'prod.api', 'batch', 'default'];

function setup() {
  const cell = makeCell(Array.from({ length: 6 }, (_, i) => ({ id: `n${i}`, cap: [2000, 4000, 0] })), 2);
  const committer = new Committer(cell, { granularity: 'fine', checks: withCheck(DEFAULT_CLAIM_CHECKS, quotaCheck(() => tree)) });
  return { cell, committer };
}

/** A replica's proposal: a few claims, each of a queue, maybe preemptible, on a node. */
const claimArb = fc.record({ node: fc.integer({ min: 0, max: 5 }), queue: fc.constantFrom(...LEAVES), cpu: fc.constantFrom(100, 250, 500, 700), pre: fc.boolean() });
const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('txn' as const), replica: fc.integer({ min: 0, max: 3 }), gang: fc.boolean(), claims: fc.array(claimArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('end' as const), pick: fc.nat() }),
);

describe('quota (DESIGN §10), enforced by the committer', () => {
  it('no interleaving of transactions from N replicas commits a queue above its max, and usage = sum of running non-preemptible tasks', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
      const { cell, committer } = setup();
      let n = 0;
      let seq = 0;
      for (const st of steps) {
        if (st.kind === 'end') {
          const placed = [...cell.placedTasks()];
          if (placed.length > 0) cell.release(placed[st.pick % placed.length].taskId);
        } else {
          const claims: Claim[] = st.claims.map((c) => ({
            taskId: `t${n++}`, jobId: `j${st.replica}`, nodeId: `n${c.node}`, demand: vec(c.cpu, 10, 0), seenVersion: 0,
            queue: c.queue, ...(c.pre ? { preemptible: true } : {}),
          }));
          const txn: Transaction = { id: `r${st.replica}-${seq}`, schedulerId: `s${st.replica}`, kind: st.gang ? 'all-or-nothing' : 'incremental', claims };
          committer.commit(txn, ++seq);
        }
        // Usage, recomputed from scratch: every running non-preemptible task on its queue path.
        const expected = new Map<string, Float64Array>();
        for (const a of cell.placedTasks()) if (a.preemptible !== true) addQueueUsage(expected, a.queue ?? 'default', a.demand);
        const got = cell.queueAllocated();
        for (const q of new Set([...expected.keys(), ...got.keys()])) {
          expect([...(got.get(q) ?? space.zero())]).toEqual([...(expected.get(q) ?? space.zero())]);
        }
        for (const node of tree.all()) {
          const a = got.get(node.path);
          if (a !== undefined) for (let k = 0; k < a.length; k++) expect(a[k]).toBeLessThanOrEqual(node.max[k]);
        }
      }
    }), { numRuns: 200 });
  });

  it('refuses with reason quota and counts a transaction\'s claims together; preemptible claims count against none', () => {
    const { cell, committer } = setup();
    const c = (t: string, node: string, cpu: number, queue: string, pre = false): Claim => ({ taskId: t, jobId: 'j', nodeId: node, demand: vec(cpu, 0, 0), seenVersion: 0, queue, ...(pre ? { preemptible: true } : {}) });
    const r = committer.commit({ id: 'x', schedulerId: 's', kind: 'incremental', claims: [c('a', 'n0', 1000, 'batch'), c('b', 'n1', 1000, 'batch'), c('p', 'n2', 1000, 'batch', true)] }, 1);
    expect(r.committed).toEqual(['a', 'p']);
    expect(r.rejected).toEqual([{ taskId: 'b', nodeId: 'n1', reason: 'quota' }]);
    // The parent's max binds the children together: web 1800 + api 1500 > prod 3000.
    expect(committer.commit({ id: 'y', schedulerId: 's', kind: 'incremental', claims: [c('w', 'n3', 1800, 'prod.web'), c('i', 'n4', 1500, 'prod.api')] }, 2).rejected.map((x) => x.reason)).toEqual(['quota']);
    expect([...cell.queueAllocated().get('prod')!]).toEqual([1800, 0, 0]);
  });
});
