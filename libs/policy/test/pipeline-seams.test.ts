import { FilterReason, type TaskRequest, type ViewNode } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  PipelineSpecError, PluginArgsError, createDefaultRegistry, createPipeline, createRng, parsePipelineSpec, pipelineSpecFromText,
  placeJob, placeTask, type FilterPlugin, type PlaceOptions, type PlacementContext, type PostFilterPlugin,
} from '../src/index.ts';
import { aNode, aTask, space, viewOf } from './builders.ts';

const opts = (o: Partial<PlaceOptions> = {}): PlaceOptions => ({ mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: 0, rng: createRng(1), ...o });
const chosen = (p: { ok: boolean; node?: ViewNode }) => (p.ok ? p.node!.id : undefined);

describe('pipeline specs as configuration', () => {
  const rows: [string, string, string][] = [
    ['no scorers', '{"scorers": []}', 'scorers'],
    ['unknown key', '{"scorers": ["binpack"], "extra": 1}', '(root)'],
    ['bad weight', '{"scorers": [{"name": "binpack", "weight": -1}]}', 'scorers[0].weight'],
    ['unknown scorer', '{"scorers": ["binpack", {"name": "drf"}]}', 'scorers[1].name'],
    ['unknown filter', 'filters: [resource-fit, quota]\nscorers: [spread]', 'filters[1]'],
    ['unknown post-filter', '{"scorers": ["binpack"], "postFilters": ["preempt"]}', 'postFilters[0]'],
    ['not YAML', '{scorers: [', '(root)'],
  ];
  it.each(rows)('%s → refused at %s', (_n, text, path) => {
    let err: unknown;
    try {
      pipelineSpecFromText(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PipelineSpecError);
    expect((err as PipelineSpecError).path).toBe(path);
  });

  it('accepts names, weights and args (YAML or JSON)', () => {
    expect(parsePipelineSpec({ scorers: ['spread', { name: 'preferences', weight: 3 }] })).toEqual({ scorers: ['spread', { name: 'preferences', weight: 3 }] });
    expect(pipelineSpecFromText('scorers:\n  - {name: binpack, weight: 2}\n')).toEqual({ scorers: [{ name: 'binpack', weight: 2 }] });
  });

  it('factories get their args and the cell space; argument-less plugins refuse args', () => {
    const seen: unknown[] = [];
    const registry = createDefaultRegistry().registerFilter('min-cpu', (args, h) => {
      const min = (args as { cpu: number }).cpu;
      seen.push(args, h.space === space);
      return { name: 'min-cpu', unresolvable: ['too small'], filter: (n) => (n.capacity[0] >= min ? undefined : 'too small') };
    });
    const p = createPipeline({ filters: [{ name: 'min-cpu', args: { cpu: 3000 } }], scorers: ['spread'] }, { space, registry });
    expect(seen).toEqual([{ cpu: 3000 }, true]);
    const v = viewOf([{ syncedAt: 0, nodes: [aNode('small').cap({ cpu_millis: 2000, mem_mib: 8192 }), aNode('big')] }]);
    expect(chosen(placeTask(v, aTask().obj(), opts({ pipeline: p })))).toBe('big');
    expect(() => createPipeline({ scorers: [{ name: 'binpack', args: { x: 1 } }] }, { space })).toThrow(PluginArgsError);
  });
});

/** At most `limit` tasks of the job per node: state from prepare, counts kept by reserve. */
function perNodeLimit(limit: number, calls: { prepared: number }): FilterPlugin {
  return {
    name: 'per-node-limit',
    unresolvable: [],
    prepare: () => (calls.prepared++, new Map<string, number>()),
    filter: (node, _t: TaskRequest, ctx: PlacementContext) => ((ctx.state<Map<string, number>>('per-node-limit').get(node.id!) ?? 0) >= limit ? 'job limit on node' : undefined),
    reserve: (ctx, _t, node) => {
      const m = ctx.state<Map<string, number>>('per-node-limit');
      m.set(node.id, (m.get(node.id) ?? 0) + 1);
    },
  };
}

describe('placement context', () => {
  it('prepare runs once per call; reserve lets later tasks of the call see earlier ones', () => {
    const calls = { prepared: 0 };
    const registry = createDefaultRegistry().registerFilter(perNodeLimit(1, calls));
    const pipeline = createPipeline({ filters: ['per-node-limit', 'resource-fit', 'node-state'], scorers: ['binpack'] }, { space, registry });
    const v = viewOf([{ syncedAt: 0, nodes: [aNode('a'), aNode('b'), aNode('c')] }]);
    const tasks = ['t0', 't1', 't2', 't3'].map((id) => aTask(id).obj());
    const r = placeJob(v, tasks, opts({ pipeline, job: { id: 'job', queue: 'prod' } }));
    expect(calls.prepared).toBe(1);
    expect(new Set(r.claims.map((c) => c.nodeId)).size).toBe(3);
    expect(r.unplaced.map((u) => u.placement.reasons)).toEqual([{ 'job limit on node': 3 }]);
    expect(r.claims.every((c) => c.queue === 'prod')).toBe(true);
    // A second call starts from scratch: nothing leaks between calls.
    expect(placeJob(v, [aTask('t9').obj()], opts({ pipeline })).claims).toHaveLength(1);
    expect(calls.prepared).toBe(2);
  });
});

describe('post-filters', () => {
  function preemptLike(calls: string[]): PostFilterPlugin {
    return {
      name: 'evict-first',
      postFilter: (task, failure, ctx) => {
        calls.push(`${task.id}:${Object.keys(failure.reasons).join(',')}`);
        const node = ctx.view.node('full')!;
        return { node, evictions: [{ taskId: 'victim', nodeId: 'full' }] };
      },
    };
  }

  it('run only when placement failed for a retryable reason, and their evictions come back with the claim', () => {
    const calls: string[] = [];
    const registry = createDefaultRegistry().registerPostFilter(preemptLike(calls));
    const pipeline = createPipeline({ scorers: ['binpack'], postFilters: ['evict-first'] }, { space, registry });
    const full = viewOf([{ syncedAt: 0, nodes: [aNode('full').alloc({ cpu_millis: 4000 })] }]);
    const r = placeJob(full, [aTask('t').obj()], opts({ pipeline }));
    expect(calls).toEqual([`t:${FilterReason.resources_now}`]);
    expect(r.claims.map((c) => c.nodeId)).toEqual(['full']);
    expect(r.evictions).toEqual([{ taskId: 'victim', nodeId: 'full' }]);
    // Never for an unresolvable failure (larger than every node).
    const p = placeTask(full, aTask('huge').req({ cpu_millis: 99_000 }).obj(), opts({ pipeline }));
    expect(p).toMatchObject({ ok: false, retryable: false });
    expect(calls).toHaveLength(1);
  });
});

describe('conditional filters', () => {
  it('a filter whose appliesTo is false for a task is never called for it; it is for a task it applies to', () => {
    let calls = 0;
    const onlyTagged: FilterPlugin = {
      name: 'only-tagged', unresolvable: [],
      appliesTo: (t) => t.group === 'tagged',
      filter: () => { calls++; return undefined; },
    };
    const registry = createDefaultRegistry().registerFilter(onlyTagged);
    const pipeline = createPipeline({ filters: ['resource-fit', 'only-tagged'], scorers: ['binpack'] }, { space, registry });
    const view = viewOf([{ syncedAt: 0, nodes: [aNode('a'), aNode('b')] }]);
    const opts = { mode: 'quality-first' as const, scorer: 'binpack', sampleSize: 0, now: 0, rng: createRng(1), pipeline };
    expect(placeTask(view, aTask().obj(), opts).ok).toBe(true);
    expect(calls).toBe(0);
    expect(placeTask(view, { ...aTask().obj(), group: 'tagged' }, opts).ok).toBe(true);
    expect(calls).toBe(2);
    expect(pipeline.filtersFor(aTask().obj()).map((f) => f.name)).toEqual(['resource-fit']);
  });
});
