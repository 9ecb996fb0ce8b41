import { FilterReason, SchedulerView, type TaskRequest } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  createDefaultRegistry,
  createPipeline,
  createRng,
  DuplicatePluginError,
  forgetClaims,
  placeJob,
  placeTask,
  PluginRegistry,
  UnknownPluginError,
  binpackScorer,
  type EffectiveMode,
  type FilterPlugin,
  type PlaceOptions,
  type Placement,
  type ScorerPlugin,
} from '../src/index.ts';
import { aNode, aTask, space, viewOf, type NodeBuilder } from './builders.ts';

const NOW = 10_000;

function opts(over: Partial<PlaceOptions> = {}): PlaceOptions {
  return { mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: NOW, rng: createRng(1), ...over };
}

function chosen(p: Placement): string {
  if (!p.ok) throw new Error(`expected a placement, got ${JSON.stringify(p)}`);
  return p.node.id;
}

/** n identical empty nodes in one partition. */
function uniform(n: number, prefix = 'n'): NodeBuilder[] {
  return Array.from({ length: n }, (_, i) => aNode(`${prefix}${i}`));
}

describe('latency-first', () => {
  // p0: old, holds the best binpack node; p1: freshest; p2: in between.
  const view = () =>
    viewOf([
      { syncedAt: 1000, nodes: [aNode('old-busy').alloc({ cpu_millis: 3000 }), aNode('old-empty')] },
      { syncedAt: 9000, nodes: [aNode('fresh-a').alloc({ cpu_millis: 1000 }), aNode('fresh-b').alloc({ cpu_millis: 2000 })] },
      { syncedAt: 5000, nodes: [aNode('mid').alloc({ cpu_millis: 2500 })] },
    ]);

  it('places on the freshest partition, best node within it', () => {
    const p = placeTask(view(), aTask().req({ cpu_millis: 500 }).obj(), opts({ mode: 'latency-first' }));
    expect(chosen(p)).toBe('fresh-b');
    expect(p.ok && p.stalenessMs).toBe(NOW - 9000);
  });

  it('falls back to the next freshest partition when the freshest has no feasible node', () => {
    const task = aTask().req({ cpu_millis: 2500 }).obj(); // fits only fresh-a among the fresh nodes
    const tight = aTask().req({ cpu_millis: 1500, mem_mib: 8192 }).obj();
    const v = viewOf([
      { syncedAt: 1000, nodes: [aNode('old')] },
      { syncedAt: 9000, nodes: [aNode('fresh').alloc({ cpu_millis: 3000 })] },
      { syncedAt: 5000, nodes: [aNode('mid')] },
    ]);
    const p = placeTask(v, tight, opts({ mode: 'latency-first' }));
    expect(chosen(p)).toBe('mid');
    expect(p.ok && p.stalenessMs).toBe(NOW - 5000);
    expect(chosen(placeTask(view(), task, opts({ mode: 'latency-first' })))).toBe('fresh-a');
    const tooBigForFresh = aTask().req({ cpu_millis: 3500 }).obj(); // only old-empty can take it
    expect(chosen(placeTask(view(), tooBigForFresh, opts({ mode: 'latency-first' })))).toBe('old-empty');
  });

  it('skips partitions whose nodes are all refused, whatever the reason, down to the stalest', () => {
    const v = viewOf([
      { syncedAt: 1000, nodes: [aNode('last-resort')] },
      { syncedAt: 9000, nodes: [aNode('draining').condition('draining')] },
      { syncedAt: 5000, nodes: [aNode('wrong-zone').label('zone', 'b')] },
    ]);
    const t = aTask().constraint('zone', 'not_in', ['b']).obj();
    const p = placeTask(v, t, opts({ mode: 'latency-first' }));
    expect(chosen(p)).toBe('last-resort');
    expect(p.ok && p.stalenessMs).toBe(NOW - 1000);
  });

  it('follows the sync times, not partition ids, and re-orders after a sync', () => {
    const v = view();
    const t = aTask().req({ cpu_millis: 100 }).obj();
    expect(chosen(placeTask(v, t, opts({ mode: 'latency-first' })))).toMatch(/^fresh-/);
    // p2 is synced now: it becomes the freshest.
    v.applySync({ partition: 2, version: 1, kind: 'delta', nodes: [] }, 9500);
    const p = placeTask(v, t, opts({ mode: 'latency-first' }));
    expect(chosen(p)).toBe('mid');
    expect(p.ok && p.stalenessMs).toBe(NOW - 9500);
  });

  it('puts never-synced partitions last', () => {
    const v = new SchedulerView(space, 2);
    // A node known only from a commit reply, in a partition never synced.
    v.refreshNodes([{ ...aNode('unsynced').partition(0).obj() }]);
    v.applySync({ partition: 1, version: 1, kind: 'snapshot', nodes: [aNode('synced').partition(1).alloc({ cpu_millis: 3900 }).obj()] }, 2000);
    const small = aTask().req({ cpu_millis: 100 }).obj();
    expect(chosen(placeTask(v, small, opts({ mode: 'latency-first' })))).toBe('synced');
    const big = aTask().req({ cpu_millis: 1000 }).obj();
    const p = placeTask(v, big, opts({ mode: 'latency-first' }));
    expect(chosen(p)).toBe('unsynced');
    expect(p.ok && p.stalenessMs).toBe(Infinity);
  });
});

describe('latency-first with home partitions', () => {
  // p0 stale, p1 freshest, p2 in between; this replica's home is p0 and p2.
  const home = [true, false, true];
  const view = () =>
    viewOf([
      { syncedAt: 1000, nodes: [aNode('home-old').alloc({ cpu_millis: 1000 })] },
      { syncedAt: 9000, nodes: [aNode('away-fresh')] },
      { syncedAt: 5000, nodes: [aNode('home-mid').alloc({ cpu_millis: 3500 })] },
    ]);

  it('tries home partitions first, freshest first, however fresh the others are', () => {
    const small = aTask().req({ cpu_millis: 400 }).obj();
    const p = placeTask(view(), small, opts({ mode: 'latency-first', homePartitions: home }));
    expect(chosen(p)).toBe('home-mid');
    expect(p.ok && p.stalenessMs).toBe(NOW - 5000);
    // Too big for home-mid: the next home partition, still before the fresher partition away.
    expect(chosen(placeTask(view(), aTask().req({ cpu_millis: 2000 }).obj(), opts({ mode: 'latency-first', homePartitions: home })))).toBe('home-old');
    // Without homes, the freshest partition wins.
    expect(chosen(placeTask(view(), small, opts({ mode: 'latency-first' })))).toBe('away-fresh');
  });

  it('falls back to the other partitions when no home partition has room', () => {
    const big = aTask().req({ cpu_millis: 3500 }).obj();
    const p = placeTask(view(), big, opts({ mode: 'latency-first', homePartitions: home }));
    expect(chosen(p)).toBe('away-fresh');
    const none = placeTask(view(), aTask().req({ cpu_millis: 5000 }).obj(), opts({ mode: 'latency-first', homePartitions: home }));
    expect(none.ok).toBe(false);
    // Every node was visited once: the refusals add up to the view's three nodes.
    if (!none.ok) expect(Object.values(none.reasons).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('is ignored by quality-first', () => {
    const p = placeTask(view(), aTask().req({ cpu_millis: 400 }).obj(), opts({ mode: 'quality-first', homePartitions: [false, true, false] }));
    expect(chosen(p)).toBe('home-mid');
  });
});

describe('quality-first and state-sync', () => {
  const view = () =>
    viewOf([
      { syncedAt: 1000, nodes: [aNode('old-busy').alloc({ cpu_millis: 3000 }), aNode('old-empty')] },
      { syncedAt: 9000, nodes: [aNode('fresh-a').alloc({ cpu_millis: 1000 }), aNode('fresh-b').alloc({ cpu_millis: 2000 })] },
    ]);
  const task = aTask().req({ cpu_millis: 500 }).obj();

  it.each<[EffectiveMode, 'binpack' | 'spread', string, number]>([
    ['quality-first', 'binpack', 'old-busy', NOW - 1000],
    ['quality-first', 'spread', 'old-empty', NOW - 1000],
    ['state-sync', 'binpack', 'old-busy', NOW - 1000],
    ['state-sync', 'spread', 'old-empty', NOW - 1000],
    ['latency-first', 'binpack', 'fresh-b', NOW - 9000],
    ['latency-first', 'spread', 'fresh-a', NOW - 9000],
  ])('%s with %s picks %s', (mode, scorer, want, staleness) => {
    const p = placeTask(view(), task, opts({ mode, scorer }));
    expect(chosen(p)).toBe(want);
    expect(p.ok && p.stalenessMs).toBe(staleness);
  });

  it('reports the winning score', () => {
    const p = placeTask(view(), task, opts({ scorer: 'binpack' }));
    expect(p.ok && p.score).toBeCloseTo(3500 / 4000, 12);
  });

  it('averages soft preferences into the score by default', () => {
    const v = viewOf([{ syncedAt: 1000, nodes: [aNode('a').label('zone', 'a'), aNode('b').label('zone', 'b')] }]);
    for (const seed of [1, 2, 3, 4, 5]) {
      const p = placeTask(v, aTask().prefer('zone', 'in', ['b']).obj(), opts({ rng: createRng(seed) }));
      expect(chosen(p)).toBe('b');
      expect(p.ok && p.score).toBeCloseTo((500 / 4000 + 1) / 2, 12);
    }
  });
});

describe('candidate sampling', () => {
  const big = () => viewOf([0, 1, 2, 3].map((p) => ({ syncedAt: 1000 * (p + 1), nodes: uniform(250, `p${p}-`) })));
  const t = aTask().obj();

  it('is deterministic for a seed', () => {
    for (const mode of ['quality-first', 'latency-first'] as const) {
      const run = (seed: string) => {
        const v = big();
        const rng = createRng(seed);
        return Array.from({ length: 50 }, () => chosen(placeTask(v, t, opts({ mode, scorer: 'spread', sampleSize: 4, rng }))));
      };
      expect(run('eval-1')).toEqual(run('eval-1'));
      expect(run('eval-1')).not.toEqual(run('eval-2'));
    }
  });

  it('spreads schedulers with different seeds over different nodes', () => {
    const v = big();
    const picks = new Set<string>();
    for (let s = 0; s < 20; s++) picks.add(chosen(placeTask(v, t, opts({ sampleSize: 1, rng: createRng(`scheduler-${s}`) }))));
    expect(picks.size).toBeGreaterThanOrEqual(18);
  });

  function countingPipeline() {
    const calls = { n: 0 };
    const counting: ScorerPlugin = { name: 'counting', appliesTo: () => true, score: (n, task, c) => (calls.n++, binpackScorer.score(n, task, c)) };
    const registry = createDefaultRegistry().registerScorer(counting);
    return { calls, pipeline: createPipeline({ scorers: ['counting'] }, { space, registry }) };
  }

  it.each([
    { sampleSize: 1, scored: 1 },
    { sampleSize: 16, scored: 16 },
    { sampleSize: 0, scored: 1000 },
    { sampleSize: 5000, scored: 1000 },
  ])('scores $scored candidates with sampleSize $sampleSize on 1000 feasible nodes', ({ sampleSize, scored }) => {
    const { calls, pipeline } = countingPipeline();
    expect(placeTask(big(), t, opts({ sampleSize, pipeline })).ok).toBe(true);
    expect(calls.n).toBe(scored);
  });

  it('counts only feasible nodes towards the sample', () => {
    const { calls, pipeline } = countingPipeline();
    const nodes = [...uniform(50, 'full-').map((b) => b.alloc({ cpu_millis: 4000 })), ...uniform(5, 'free-')];
    const p = placeTask(viewOf([{ syncedAt: 0, nodes }]), t, opts({ sampleSize: 3, pipeline }));
    expect(chosen(p)).toMatch(/^free-/);
    expect(calls.n).toBe(3);
  });

  it('latency-first samples within the freshest feasible partition only', () => {
    const { calls, pipeline } = countingPipeline();
    const p = placeTask(big(), t, opts({ mode: 'latency-first', sampleSize: 8, pipeline }));
    expect(chosen(p)).toMatch(/^p3-/);
    expect(calls.n).toBe(8);
  });

  it('sampleSize 0 finds the global best; a sample never beats it', () => {
    const load = (i: number) => (i * 7919) % 3500; // distinct loads in [0, 3500)
    const nodes = Array.from({ length: 500 }, (_, i) => aNode(`n${i}`).alloc({ cpu_millis: load(i) }));
    const fullest = Array.from({ length: 500 }, (_, i) => i).reduce((a, b) => (load(b) > load(a) ? b : a));
    const v = viewOf([{ syncedAt: 0, nodes }]);
    const all = placeTask(v, t, opts({ sampleSize: 0 }));
    expect(chosen(all)).toBe(`n${fullest}`);
    for (let s = 0; s < 10; s++) {
      const some = placeTask(v, t, opts({ sampleSize: 16, rng: createRng(s) }));
      expect(some.ok && all.ok && some.score <= all.score).toBe(true);
    }
  });
});

describe('unschedulable: reasons and retryable', () => {
  const cases: { name: string; nodes: NodeBuilder[]; task: TaskRequest; retryable: boolean; reasons: Record<string, number> }[] = [
    {
      name: 'larger than every node',
      nodes: uniform(3),
      task: aTask().req({ cpu_millis: 5000 }).obj(),
      retryable: false,
      reasons: { [FilterReason.resources_ever]: 3 },
    },
    {
      name: 'constraint matches no node',
      nodes: [aNode('a').label('zone', 'a'), aNode('b').label('zone', 'b')],
      task: aTask().constraint('zone', 'in', ['c']).obj(),
      retryable: false,
      reasons: { [FilterReason.constraint]: 2 },
    },
    {
      name: 'too big where constraints hold, constraints fail elsewhere',
      nodes: [aNode('small').label('gpu_model', 'a100'), aNode('big').cap({ cpu_millis: 64000, mem_mib: 8192 })],
      task: aTask().req({ cpu_millis: 8000 }).constraint('gpu_model', 'exists').obj(),
      retryable: false,
      reasons: { [FilterReason.resources_ever]: 1, [FilterReason.constraint]: 1 },
    },
    {
      name: 'too big for a node that is also not ready: still never',
      nodes: [aNode('lost').condition('lost')],
      task: aTask().req({ cpu_millis: 5000 }).obj(),
      retryable: false,
      reasons: { [FilterReason.resources_ever]: 1 },
    },
    {
      name: 'every node full now',
      nodes: uniform(4).map((b) => b.alloc({ cpu_millis: 3800 })),
      task: aTask().req({ cpu_millis: 500 }).obj(),
      retryable: true,
      reasons: { [FilterReason.resources_now]: 4 },
    },
    {
      name: 'full because of our own in-flight bookings',
      nodes: [aNode('n').reserved({ cpu_millis: 3800 })],
      task: aTask().req({ cpu_millis: 500 }).obj(),
      retryable: true,
      reasons: { [FilterReason.resources_now]: 1 },
    },
    {
      name: 'the only matching node is draining',
      nodes: [aNode('d').label('zone', 'a').condition('draining'), aNode('x').label('zone', 'x')],
      task: aTask().constraint('zone', 'in', ['a']).obj(),
      retryable: true,
      reasons: { [FilterReason.node_not_ready]: 1, [FilterReason.constraint]: 1 },
    },
    { name: 'no nodes in the view yet', nodes: [], task: aTask().obj(), retryable: true, reasons: {} },
  ];

  for (const mode of ['quality-first', 'latency-first', 'state-sync'] as const) {
    it.each(cases)(`${mode}: $name`, ({ nodes, task, retryable, reasons }) => {
      // Spread the nodes over two partitions so latency-first has to visit both.
      const half = Math.ceil(nodes.length / 2);
      const v = viewOf([
        { syncedAt: 5000, nodes: nodes.slice(0, half) },
        { syncedAt: 6000, nodes: nodes.slice(half) },
      ]);
      const p = placeTask(v, task, opts({ mode, sampleSize: 2 }));
      expect(p).toEqual({ ok: false, retryable, reasons });
      // Every node was visited once: the counts add up to the view's size.
      if (!p.ok) expect(Object.values(p.reasons).reduce((a, b) => a + b, 0)).toBe(v.nodeCount);
    });
  }
});

describe('placeJob', () => {
  it('books each choice so tasks of one job do not collide, and reports the rest', () => {
    const v = viewOf([{ syncedAt: 5000, nodes: [aNode('a').version(7), aNode('b').version(9)] }]);
    const tasks = [0, 1, 2].map((i) => aTask(`job/g/${i}`).jobId('job').req({ cpu_millis: 3000 }).constraint('zone', 'not_exists').obj());
    const r = placeJob(v, tasks, opts());
    expect(r.claims.map((c) => c.nodeId).sort()).toEqual(['a', 'b']);
    expect(r.claims.map((c) => c.taskId)).toEqual(['job/g/0', 'job/g/1']);
    for (const c of r.claims) {
      expect(c.jobId).toBe('job');
      expect(c.seenVersion).toBe(c.nodeId === 'a' ? 7 : 9);
      expect(c.constraints).toEqual([{ label: 'zone', op: 'not_exists' }]);
      expect(c.demand).toBe(tasks.find((x) => x.id === c.taskId)!.demand);
    }
    expect(r.placements.map((p) => p.ok)).toEqual([true, true, false]);
    expect(r.unplaced).toEqual([{ task: tasks[2], placement: { ok: false, retryable: true, reasons: { [FilterReason.resources_now]: 2 } } }]);
    expect(v.node('a')!.reserved![0]).toBe(3000);
    expect(v.node('b')!.reserved![0]).toBe(3000);
  });

  it('packs several tasks onto one node with binpack, up to its capacity', () => {
    const v = viewOf([{ syncedAt: 0, nodes: [aNode('a'), aNode('b')] }]);
    const tasks = [0, 1, 2, 3].map((i) => aTask(`j/g/${i}`).req({ cpu_millis: 2000, mem_mib: 100 }).obj());
    const r = placeJob(v, tasks, opts({ scorer: 'binpack' }));
    const byNode = new Map<string, number>();
    for (const c of r.claims) byNode.set(c.nodeId, (byNode.get(c.nodeId) ?? 0) + 1);
    expect([...byNode.values()]).toEqual([2, 2]);
    expect(r.claims[0].nodeId).toBe(r.claims[1].nodeId);
  });

  it('spreads tasks over nodes with spread', () => {
    const v = viewOf([{ syncedAt: 0, nodes: uniform(4) }]);
    const tasks = [0, 1, 2, 3].map((i) => aTask(`j/g/${i}`).req({ cpu_millis: 1000 }).obj());
    const r = placeJob(v, tasks, opts({ scorer: 'spread' }));
    expect(new Set(r.claims.map((c) => c.nodeId)).size).toBe(4);
  });

  it('omits constraints from claims of unconstrained tasks; forgetClaims drops the bookings', () => {
    const v = viewOf([{ syncedAt: 0, nodes: [aNode('a')] }]);
    const r = placeJob(v, [aTask('x').obj()], opts());
    expect('constraints' in r.claims[0]).toBe(false);
    expect(v.node('a')!.reserved![0]).toBe(500);
    forgetClaims(v, r.claims);
    expect(Array.from(v.node('a')!.reserved!)).toEqual([0, 0, 0, 0]);
  });
});

describe('view changes between decisions', () => {
  it('sees nodes that arrive by sync or commit reply after an earlier decision', () => {
    const v = viewOf([{ syncedAt: 1000, nodes: [aNode('a').alloc({ cpu_millis: 3900 })] }]);
    const t = aTask().req({ cpu_millis: 1000 }).obj();
    expect(placeTask(v, t, opts()).ok).toBe(false);
    v.applySync({ partition: 0, version: 2, kind: 'delta', nodes: [aNode('b').partition(0).version(2).obj()] }, 2000);
    expect(chosen(placeTask(v, t, opts()))).toBe('b');
    v.refreshNodes([aNode('c').partition(0).version(3).alloc({ cpu_millis: 2000 }).obj()]);
    expect(chosen(placeTask(v, t, opts({ scorer: 'binpack' })))).toBe('c');
  });

  it('keeps modes consistent when they alternate across syncs', () => {
    const v = viewOf([
      { syncedAt: 1000, nodes: [aNode('a').alloc({ cpu_millis: 3000 })] },
      { syncedAt: 2000, nodes: [aNode('b')] },
    ]);
    const t = aTask().obj();
    expect(chosen(placeTask(v, t, opts({ mode: 'latency-first' })))).toBe('b');
    v.applySync({ partition: 1, version: 2, kind: 'delta', nodes: [aNode('c').partition(1).version(2).alloc({ cpu_millis: 3400 }).obj()] }, 3000);
    expect(chosen(placeTask(v, t, opts({ mode: 'quality-first' })))).toBe('c');
    v.applySync({ partition: 0, version: 2, kind: 'delta', nodes: [] }, 4000);
    expect(chosen(placeTask(v, t, opts({ mode: 'latency-first' })))).toBe('a');
    expect(chosen(placeTask(v, t, opts({ mode: 'state-sync' })))).toBe('c');
  });

  it('forgets nodes a snapshot removed', () => {
    const v = viewOf([{ syncedAt: 1000, nodes: [aNode('gone').alloc({ cpu_millis: 3000 }), aNode('stays')] }]);
    const t = aTask().obj();
    expect(chosen(placeTask(v, t, opts({ scorer: 'binpack' })))).toBe('gone');
    v.applySync({ partition: 0, version: 2, kind: 'snapshot', nodes: [aNode('stays').partition(0).version(2).obj()] }, 2000);
    expect(chosen(placeTask(v, t, opts({ scorer: 'binpack' })))).toBe('stays');
  });
});

describe('options and plugins', () => {
  const v = viewOf([{ syncedAt: 0, nodes: [aNode('a'), aNode('b').label('ssd', 'yes')] }]);

  it.each([
    { mode: 'adaptive' as EffectiveMode },
    { sampleSize: -1 },
    { sampleSize: 1.5 },
    { sampleSize: NaN },
  ])('refuses %o', (over) => {
    expect(() => placeTask(v, aTask().obj(), opts(over))).toThrow(RangeError);
  });

  it('runs a custom filter registered by name, and honours its unresolvable reasons', () => {
    const noSsd: FilterPlugin = {
      name: 'no-ssd',
      unresolvable: ['node has ssd'],
      filter: (node) => (node.labels.ssd === 'yes' ? 'node has ssd' : undefined),
    };
    const registry = createDefaultRegistry().registerFilter(noSsd);
    const pipeline = createPipeline({ filters: ['no-ssd', 'resource-fit', 'node-state'], scorers: ['spread'] }, { space, registry });
    expect(chosen(placeTask(v, aTask().obj(), opts({ pipeline })))).toBe('a');
    const p = placeTask(v, aTask().req({ cpu_millis: 3000 }).obj(), opts({ pipeline, sampleSize: 0 }));
    expect(p.ok).toBe(true);
    const blocked = viewOf([{ syncedAt: 0, nodes: [aNode('s').label('ssd', 'yes'), aNode('big').cap({ cpu_millis: 100 })] }]);
    expect(placeTask(blocked, aTask().obj(), opts({ pipeline }))).toEqual({
      ok: false,
      retryable: false,
      reasons: { 'node has ssd': 1, [FilterReason.resources_ever]: 1 },
    });
  });

  it('weights scorers: a heavy preference beats binpack', () => {
    const busy = viewOf([{ syncedAt: 0, nodes: [aNode('busy').alloc({ cpu_millis: 3000 }), aNode('ssd').label('ssd', 'yes')] }]);
    const t = aTask().prefer('ssd', 'exists').obj();
    const light = createPipeline({ scorers: [{ name: 'binpack', weight: 10 }, { name: 'preferences', weight: 1 }] }, { space });
    const heavy = createPipeline({ scorers: [{ name: 'binpack', weight: 1 }, { name: 'preferences', weight: 10 }] }, { space });
    expect(chosen(placeTask(busy, t, opts({ pipeline: light })))).toBe('busy');
    expect(chosen(placeTask(busy, t, opts({ pipeline: heavy })))).toBe('ssd');
  });

  it('names unknown and duplicate plugins', () => {
    expect(() => createPipeline({ scorers: ['drf'] }, { space })).toThrow(UnknownPluginError);
    expect(() => createPipeline({ filters: ['quota'], scorers: ['binpack'] }, { space })).toThrow(/unknown filter "quota"/);
    expect(() => createDefaultRegistry().registerScorer(binpackScorer)).toThrow(DuplicatePluginError);
    expect(() => createPipeline({ scorers: [] }, { space })).toThrow(RangeError);
    expect(new PluginRegistry().filterNames).toEqual([]);
    expect(createDefaultRegistry().filterNames).toEqual(['label-constraints', 'resource-fit', 'node-state', 'placement-rules', 'gpu-devices']);
    expect(createDefaultRegistry().scorerNames).toEqual(['binpack', 'spread', 'preferences', 'fgd', 'bestfit', 'packing', 'dotprod', 'random']);
  });
});
