import { FilterReason, satisfiesAll, type ConstraintOp } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  labelConstraints,
  labelConstraintsFilter,
  nodeReady,
  nodeStateFilter,
  resourceFit,
  resourceFitFilter,
} from '../src/index.ts';
import { aContext, aNode, aTask, type NodeBuilder, type TaskBuilder } from './builders.ts';

describe('resource-fit filter', () => {
  const cases: { name: string; node: NodeBuilder; task: TaskBuilder; want: FilterReason | undefined }[] = [
    { name: 'fits an empty node', node: aNode('n'), task: aTask().req({ cpu_millis: 1000 }), want: undefined },
    { name: 'fits exactly the free room', node: aNode('n').alloc({ cpu_millis: 3000, mem_mib: 8000 }), task: aTask().req({ cpu_millis: 1000, mem_mib: 192 }), want: undefined },
    { name: 'zero demand fits a full node', node: aNode('n').alloc({ cpu_millis: 4000, mem_mib: 8192 }), task: aTask().req({}), want: undefined },
    { name: 'one dimension short now', node: aNode('n').alloc({ mem_mib: 8000 }), task: aTask().req({ cpu_millis: 1, mem_mib: 193 }), want: FilterReason.resources_now },
    { name: 'in-flight reservations count as taken', node: aNode('n').alloc({ cpu_millis: 2000 }).reserved({ cpu_millis: 1500 }), task: aTask().req({ cpu_millis: 1000 }), want: FilterReason.resources_now },
    { name: 'reservations leave room', node: aNode('n').alloc({ cpu_millis: 2000 }).reserved({ cpu_millis: 1000 }), task: aTask().req({ cpu_millis: 1000 }), want: undefined },
    { name: 'larger than capacity on one dimension', node: aNode('n'), task: aTask().req({ cpu_millis: 4001 }), want: FilterReason.resources_ever },
    { name: 'a resource the node lacks entirely', node: aNode('n'), task: aTask().req({ gpu: 1 }), want: FilterReason.resources_ever },
    { name: '"ever" wins over "now" on a busy node', node: aNode('n').alloc({ cpu_millis: 4000 }), task: aTask().req({ mem_mib: 9000 }), want: FilterReason.resources_ever },
    { name: 'gpu node takes a gpu task', node: aNode('n').cap({ cpu_millis: 8000, mem_mib: 8192, gpu: 4 }).alloc({ gpu: 3 }), task: aTask().req({ gpu: 1 }), want: undefined },
  ];
  it.each(cases)('$name', ({ node, task, want }) => {
    const n = node.obj();
    const t = task.obj();
    expect(resourceFit(n, t.demand)).toBe(want);
    expect(resourceFitFilter.filter(n, t, aContext())).toBe(want);
  });

  it('declares only "larger than any node" as unresolvable', () => {
    expect(resourceFitFilter.unresolvable).toEqual([FilterReason.resources_ever]);
  });
});

describe('node-state filter', () => {
  it.each([
    { condition: 'ready' as const, want: undefined },
    { condition: 'draining' as const, want: FilterReason.node_not_ready },
    { condition: 'lost' as const, want: FilterReason.node_not_ready },
  ])('$condition → $want', ({ condition, want }) => {
    const n = aNode('n').condition(condition).obj();
    expect(nodeReady(n)).toBe(want);
    expect(nodeStateFilter.filter(n, aTask().obj(), aContext())).toBe(want);
  });

  it('is always resolvable (a node can come back)', () => {
    expect(nodeStateFilter.unresolvable).toEqual([]);
  });
});

describe('label-constraints filter', () => {
  const node = aNode('n').label('zone', 'a').label('gpu_model', 'a100').obj();
  const cases: { name: string; cons: [string, ConstraintOp, string[]?][]; ok: boolean }[] = [
    { name: 'no constraints', cons: [], ok: true },
    { name: 'in: value listed', cons: [['zone', 'in', ['a', 'b']]], ok: true },
    { name: 'in: value not listed', cons: [['zone', 'in', ['b', 'c']]], ok: false },
    { name: 'in: label missing', cons: [['rack', 'in', ['r1']]], ok: false },
    { name: 'not_in: value listed', cons: [['zone', 'not_in', ['a']]], ok: false },
    { name: 'not_in: value not listed', cons: [['zone', 'not_in', ['b']]], ok: true },
    { name: 'not_in: label missing', cons: [['rack', 'not_in', ['r1']]], ok: true },
    { name: 'exists: present', cons: [['gpu_model', 'exists']], ok: true },
    { name: 'exists: absent', cons: [['rack', 'exists']], ok: false },
    { name: 'not_exists: absent', cons: [['rack', 'not_exists']], ok: true },
    { name: 'not_exists: present', cons: [['zone', 'not_exists']], ok: false },
    { name: 'all must hold', cons: [['zone', 'in', ['a']], ['gpu_model', 'not_in', ['a100']]], ok: false },
    { name: 'all hold', cons: [['zone', 'in', ['a']], ['gpu_model', 'in', ['a100', 'h100']], ['rack', 'not_exists']], ok: true },
  ];
  it.each(cases)('$name', ({ cons, ok }) => {
    const b = aTask();
    for (const [label, op, values] of cons) b.constraint(label, op, values);
    const t = b.obj();
    const want = ok ? undefined : FilterReason.constraint;
    expect(labelConstraints(node, t)).toBe(want);
    expect(labelConstraintsFilter.filter(node, t, aContext())).toBe(want);
    // Same verdict as core's satisfiesAll, which the committer uses.
    expect(satisfiesAll(node.labels, t.constraints)).toBe(ok);
  });

  it('declares a constraint mismatch unresolvable', () => {
    expect(labelConstraintsFilter.unresolvable).toEqual([FilterReason.constraint]);
  });
});
