import { describe, expect, it } from 'vitest';
import { listJobs, listNodes, listPartitions } from '../src/core/listings.ts';
import { claimTxn, commitNow, model, register, spec, submit } from './builders.ts';

function setup() {
  const m = model({ partitions: 3 });
  register(m, 'a', ...Array.from({ length: 5 }, (_, i) => ({ id: `n${i}`, cpu: 1000, labels: { i: String(i) } })));
  for (const id of ['j1', 'j2', 'j3']) submit(m, spec(id, [{ name: 't', count: 1 }]));
  commitNow(m, [claimTxn('x', [{ task: 'j2/t/0', node: 'n3', cpu: 250 }])]);
  return m;
}

describe('listings', () => {
  it('pages nodes with total, in registration order, in the §7 shape', () => {
    const m = setup();
    const p = listNodes(m, { offset: 2, limit: 2 });
    expect(p.total).toBe(5);
    expect(p.items.map((n) => n.id)).toEqual(['n2', 'n3']);
    expect(p.items[1]).toEqual({
      id: 'n3', partition: m.cell.node('n3')!.partition, state: 'ready', labels: { i: '3' },
      capacity: { cpu_millis: 1000, mem_mib: 1000, gpu: 0 }, allocated: { cpu_millis: 250, mem_mib: 0, gpu: 0 }, version: m.cell.node('n3')!.version,
    });
    expect(listNodes(m, { offset: 10, limit: 5 })).toEqual({ ok: true, total: 5, items: [] });
  });

  it('filters by ids, in the order asked, skipping unknown and repeated ids', () => {
    const m = setup();
    const p = listJobs(m, { offset: 0, limit: 10, ids: ['j3', 'nope', 'j1', 'j3'] });
    expect(p.total).toBe(2);
    expect(p.items.map((j) => j.id)).toEqual(['j3', 'j1']);
    expect(listJobs(m, { offset: 0, limit: 10, ids: ['j2'] }).items[0]).toMatchObject({ state: 'placed', tasks: [{ id: 'j2/t/0', state: 'placed', node: 'n3' }] });
  });

  it('lists partitions with versions, counts and allocated ratios', () => {
    const m = setup();
    const p = listPartitions(m, { offset: 0, limit: 10 });
    expect(p.total).toBe(3);
    expect(p.items.reduce((s, x) => s + x.nodes, 0)).toBe(5);
    const mine = p.items[m.cell.node('n3')!.partition];
    const nodesThere = m.cell.partitionNodes(mine.id).length;
    expect(mine.allocated_ratio.cpu_millis).toBeCloseTo(250 / (1000 * nodesThere));
    expect(mine.version).toBe(m.cell.partitionVersion(mine.id));
    expect(listPartitions(m, { offset: 0, limit: 10, ids: ['2', '7', 'x', '02'] }).items.map((x) => x.id)).toEqual([2]);
  });
});
