import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CellState, ResourceSpace } from '../src/index.ts';

// release subtracts in O(1) while a node holds only whole amounts and re-sums otherwise; either
// way `allocated` must equal the sum of the remaining allocations in booking order, bit for bit.
describe('CellState.release keeps allocated exact', () => {
  it('for mixes of whole and fractional demands, released in any order', () => {
    const amount = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 0, max: 1000, noNaN: true }));
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), amount, amount), { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat(), { maxLength: 60 }),
      (tasks, order) => {
        const space = ResourceSpace.default;
        const cell = new CellState(space, 2);
        for (let i = 0; i < 3; i++) cell.upsertNode({ id: `n${i}`, labels: {}, capacity: Float64Array.from([1e12, 1e12, 0, 0]) });
        cell.applyClaims(tasks.map(([node, cpu, mem], i) => ({ taskId: `t${i}`, jobId: 'j', nodeId: `n${node}`, demand: Float64Array.from([cpu, mem, 0, 0]), seenVersion: 0 })), 1);
        const live = tasks.map((_, i) => `t${i}`);
        for (const k of order) {
          if (live.length === 0) break;
          cell.release(live.splice(k % live.length, 1)[0]);
          for (let i = 0; i < 3; i++) {
            const n = cell.node(`n${i}`)!;
            const sum = space.zero();
            for (const a of n.allocations.values()) for (let d = 0; d < sum.length; d++) sum[d] += a.demand[d];
            for (let d = 0; d < sum.length; d++) expect(Object.is(n.allocated[d], sum[d])).toBe(true);
          }
        }
      },
    ), { numRuns: 300 });
  });
});
