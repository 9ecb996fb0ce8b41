/** FGD and its baselines on small nodes whose scores are computed by hand (FGD's formulas). */
import { ResourceSpace, type TaskRequest } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { nodeFrag, typicalMix, type FragNode, type ShapeMix } from '../src/gpu/frag.ts';
import { ShapeWindow } from '../src/gpu/shape-window.ts';
import { createBestfitScorer } from '../src/scorers/bestfit.ts';
import { createDotprodScorer } from '../src/scorers/dotprod.ts';
import { createFgdScorer } from '../src/scorers/fgd.ts';
import { createPackingScorer, packingScore } from '../src/scorers/packing.ts';
import { createRandomScorer } from '../src/scorers/random.ts';
import { createGpuDevicesFilter } from '../src/filters/gpu-devices.ts';
import type { GpuScoredNode } from '../src/gpu/node-state.ts';
import type { PlacementContext } from '../src/context.ts';

/** The scorers here read nothing of the placement context. */
const ctx = {} as PlacementContext;
const space = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);
const h = { space };
let n = 0;
const task = (cpu: number, gpu: number, milli: number): TaskRequest => ({
  id: `t${n++}`, jobId: 'j', group: 'g', index: 0, priority: 0, demand: Float64Array.of(cpu, 0, gpu, milli),
});
/** A node with `cpu` cores' milli free of `cpuCap`, and `used` milli per device. */
const node = (cpuUsed: number, used: number[], model?: string, cpuCap = 8000): GpuScoredNode & { id: string } => ({
  id: `n${n++}`,
  capacity: Float64Array.of(cpuCap, 0, used.length, used.length * 1000),
  allocated: Float64Array.of(cpuUsed, 0, 0, used.reduce((a, b) => a + b, 0)),
  gpus: used.length === 0 ? undefined : Float64Array.from(used),
  labels: model === undefined ? {} : ({ gpu_model: model } as Record<string, string>),
});
const frag = (mix: ShapeMix, cpuLeft: number, free: number[], model?: string): number =>
  nodeFrag(mix, { cpuLeft, free, devices: free.length, model } satisfies FragNode);

// Half the tasks take 500 milli of one GPU, half a whole GPU; 1 core each.
const halfHalf = [{ cpu: 1000, milli: 500, gpus: 1, weight: 1 }, { cpu: 1000, milli: 1000, gpus: 1, weight: 1 }];
const mix: ShapeMix = { shapes: halfHalf, weights: [0.5, 0.5] };
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('FGD fragmentation (frag.go)', () => {
  it.each([
    { name: 'an empty node: every shape fits, nothing is fragment', cpu: 8000, free: [1000, 1000], want: 0 },
    { name: 'a half-used device is fragment for whole-GPU tasks only', cpu: 7000, free: [500, 1000], want: 0.5 * 500 },
    { name: 'two half devices: whole-GPU tasks cannot run, all 1000 free milli', cpu: 6000, free: [500, 500], want: 0.5 * 1000 },
    { name: 'no CPU left: every free milli is fragment', cpu: 500, free: [1000, 1000], want: 2000 },
    { name: 'a full node has nothing to fragment', cpu: 8000, free: [0, 0], want: 0 },
  ])('$name', ({ cpu, free, want }) => {
    expect(frag(mix, cpu, free)).toBeCloseTo(want, 9);
  });

  it('CPU-only shapes and GPU models barred from the node see all free milli as fragment', () => {
    const m: ShapeMix = { shapes: [{ cpu: 1000, milli: 0, gpus: 0 }, { cpu: 1000, milli: 500, gpus: 1, models: ['A100'] }], weights: [0.25, 0.75] };
    expect(frag(m, 8000, [1000, 600], 'T4')).toBeCloseTo(1600, 9);
    expect(frag(m, 8000, [1000, 600], 'A100')).toBeCloseTo(0.25 * 1600, 9);
  });

  it('typical shapes: the most frequent ones covering 95 %, re-normalised', () => {
    const s = (cpu: number) => ({ cpu, milli: 500, gpus: 1 });
    const shapes = [...Array(60).fill(s(1)), ...Array(36).fill(s(2)), ...Array(4).fill(s(3))];
    const t = typicalMix(shapes);
    expect(t.shapes.map((x) => x.cpu)).toEqual([1, 2]);
    expect(t.weights[0]).toBeCloseTo(60 / 96, 12);
  });

  it('a learned window forgets old tasks and counts a task once', () => {
    const w = new ShapeWindow(2);
    w.observe('a', { cpu: 1, milli: 0, gpus: 0 });
    w.observe('a', { cpu: 1, milli: 0, gpus: 0 });
    w.observe('b', { cpu: 2, milli: 0, gpus: 0 });
    w.observe('c', { cpu: 3, milli: 0, gpus: 0 });
    expect(w.current().shapes.map((x) => x.cpu).sort()).toEqual([2, 3]);
  });
});

describe('FGD score (fgd_score.go): sigmoid((frag before − frag after) / 1000), ×100 truncated', () => {
  const fgd = createFgdScorer({ mix: halfHalf }, h);
  it('an empty node: a 500-milli share makes 250 milli of fragment', () => {
    const nd = node(0, [0, 0]);
    const t = task(1000, 0, 500);
    expect(fgd.score(nd, t, ctx)).toBe(Math.floor(sig(-0.25) * 100) / 100);
    expect(fgd.devices!(nd, t, ctx)).toEqual([0]);
  });
  it('a half-used node: the share completes the half device (fragment 250 → 0), not the free one', () => {
    const nd = node(1000, [500, 0]);
    const t = task(1000, 0, 500);
    expect(fgd.score(nd, t, ctx)).toBe(Math.floor(sig(0.25) * 100) / 100);
    expect(fgd.devices!(nd, t, ctx)).toEqual([0]);
  });
  it('so FGD prefers the half-used node', () => {
    const t = task(1000, 0, 500);
    expect(fgd.score(node(1000, [500, 0]), t, ctx)).toBeGreaterThan(fgd.score(node(0, [0, 0]), t, ctx));
  });
  it('a CPU-only task: a CPU node (no devices) scores ½, a GPU node it would starve of CPU less', () => {
    const t = task(1000, 0, 0);
    expect(fgd.score(node(0, []), t, ctx)).toBe(0.5);
    // 1500 CPU left: after the task 500 < 1000 needed by every shape → 2000 milli of fragment.
    expect(fgd.score(node(6500, [0, 0]), t, ctx)).toBe(Math.floor(sig(-2) * 100) / 100);
  });
  it('resolution 0 keeps the exact sigmoid', () => {
    expect(createFgdScorer({ mix: halfHalf, resolution: 0 }, h).score(node(0, [0, 0]), task(1000, 0, 500), ctx)).toBeCloseTo(sig(-0.25), 12);
  });
  it('learns the mix from the tasks it is asked to place', () => {
    const learned = createFgdScorer({ window: 10 }, h);
    const t = task(1000, 1, 1000);
    (learned as unknown as { prepare(c: { tasks: TaskRequest[] }): void }).prepare({ tasks: [t] });
    expect(learned.mix().shapes).toEqual([{ cpu: 1000, milli: 1000, gpus: 1 }]);
  });
  it('refuses bad args', () => {
    expect(() => createFgdScorer({ window: 0 }, h)).toThrow(/window/);
    expect(() => createFgdScorer({ mixx: [] }, h)).toThrow(/unknown arg "mixx"/);
  });
});

describe('the baselines (best_fit, gpu_packing, dot_product, random)', () => {
  it('bestfit: 1 − ½·cpu left after/128 cores − ½·GPU milli left after/8 GPUs', () => {
    const s = createBestfitScorer({ resolution: 0 }, h).score(node(2000, [300, 0]), task(1000, 0, 500), ctx);
    expect(s).toBeCloseTo(1 - 0.5 * (5000 / 128_000) - 0.5 * (1200 / 8000), 12);
  });
  it.each([
    { name: 'an entirely free node', free: [1000, 1000], milli: 500, gpus: 1, want: 31 },
    { name: 'a share on a shared device', free: [400, 1000], milli: 300, gpus: 1, want: 96 },
    { name: 'free devices on a used node', free: [200, 1000, 1000], milli: 1000, gpus: 2, want: 48 },
    { name: 'does not fit', free: [200, 1000], milli: 1000, gpus: 2, want: undefined },
  ])('packing: $name', ({ free, milli, gpus, want }) => {
    expect(packingScore(free, free.length, milli, gpus)).toBe(want);
  });
  it('packing ignores CPU-only tasks', () => {
    expect(createPackingScorer(undefined, h).score(node(0, [0]), task(1000, 0, 0), ctx)).toBe(0);
  });
  it('dotprod: 1 − (free · request)/2 on max-normalised [CPU, GPU]', () => {
    const s = createDotprodScorer({ resolution: 0 }, h).score(node(0, [0]), task(4000, 1, 1000), ctx);
    expect(s).toBeCloseTo(1 - ((8000 / 128_000) * (4000 / 128_000) + (1000 / 8000) * (1000 / 8000)) / 2, 12);
  });
  it('random: deterministic per seed, a device that fits', () => {
    const r = createRandomScorer({ seed: 3 }, h);
    const nd = node(0, [900, 0, 0]);
    const t = task(0, 0, 500);
    expect(r.score(nd, t, ctx)).toBe(r.score(nd, t, ctx));
    expect([1, 2]).toContain(r.devices!(nd, t, ctx)![0]);
  });
});

describe('gpu-devices filter', () => {
  const f = createGpuDevicesFilter(undefined, h);
  it.each([
    { name: 'a 600 share over two half-free devices: not now', used: [500, 500], t: task(0, 0, 600), want: 'insufficient resources now' },
    { name: 'three whole GPUs on a 2-GPU node: never', used: [0, 0], t: task(0, 3, 3000), want: 'larger than any node' },
    { name: 'two whole GPUs on two free devices', used: [0, 300, 0], t: task(0, 2, 2000), want: undefined },
  ])('$name', ({ used, t, want }) => {
    expect(f.filter({ ...node(0, used), labels: {}, condition: 'ready' }, t, ctx)).toBe(want);
  });
});
