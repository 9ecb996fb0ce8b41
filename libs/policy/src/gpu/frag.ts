/**
 * GPU fragmentation as FGD defines it (ATC'23; kubernetes-scheduler-simulator `pkg/utils/frag.go`,
 * `NodeGpuShareFragAmount` / `GetNodePodFrag` / `GetTypicalPods`), on tessera's per-device state.
 *
 * A node's fragmentation under a mix of task shapes is the expected amount of its free GPU milli
 * that a task drawn from the mix could not use: for each shape s with probability p,
 * - s cannot run on the node at all (CPU-only shape, GPU model not allowed, too few devices with
 *   room, or too little CPU left): all free GPU milli of the node is fragment for s;
 * - s can run: the free milli on devices with less room than s needs (per GPU) is fragment for s.
 * frag(node) = Σ p · fragment_s (FragAmountSumExceptQ3). The cluster's fragmentation rate is
 * Σ frag / Σ free GPU milli (FGD's "origin" frag ratio).
 */
import { MILLI_PER_GPU } from '@tessera/core';
import { modelAllows, shapeKey, type TaskShape } from './shapes.ts';

/** Task shapes with their probabilities (summing to 1). */
export interface ShapeMix {
  readonly shapes: readonly TaskShape[];
  readonly weights: readonly number[];
}

export const EMPTY_MIX: ShapeMix = Object.freeze({ shapes: Object.freeze([]), weights: Object.freeze([]) });

/**
 * A node as fragmentation sees it: CPU milli left, free milli per device (1000 − allocated,
 * `devices` entries of `free`), and its GPU model label.
 */
export interface FragNode {
  readonly cpuLeft: number;
  readonly free: ArrayLike<number>;
  readonly devices: number;
  readonly model: string | undefined;
}

/** Free GPU milli of the node over all its devices. */
export function freeMilliOf(node: FragNode): number {
  let t = 0;
  for (let i = 0; i < node.devices; i++) t += node.free[i];
  return t;
}

/** Fragmentation of one node under the mix (FGD's NodeGpuShareFragAmountScore), in GPU milli. */
export function nodeFrag(mix: ShapeMix, node: FragNode): number {
  const total = freeMilliOf(node);
  if (total <= 0) return 0;
  let frag = 0;
  const shapes = mix.shapes;
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s];
    const p = mix.weights[s];
    if (shape.milli === 0 || !modelAllows(shape, node.model)) {
      frag += p * total; // a CPU-only task uses no GPU; a task barred from this model none of it
      continue;
    }
    let roomy = 0;
    let small = 0;
    for (let i = 0; i < node.devices; i++) {
      const f = node.free[i];
      if (f >= shape.milli) roomy++;
      else small += f;
    }
    frag += roomy >= shape.gpus && node.cpuLeft >= shape.cpu ? p * small : p * total;
  }
  return frag;
}

/**
 * FGD's typical task shapes (GetTypicalPods with isInvolvedCpuPods, podIncreaseStep 1): the most
 * frequent shapes, most frequent first, until they cover `coverage` of the tasks (FGD's default
 * popularity threshold: 95 %), re-normalised to sum to 1. Ties in frequency: larger shape first.
 */
export function typicalMix(shapes: Iterable<TaskShape>, coverage = 0.95): ShapeMix {
  const counts = new Map<string, { shape: TaskShape; n: number }>();
  let total = 0;
  for (const s of shapes) {
    const k = shapeKey(s);
    const c = counts.get(k);
    if (c === undefined) counts.set(k, { shape: s, n: 1 });
    else c.n++;
    total++;
  }
  if (total === 0) return EMPTY_MIX;
  const sorted = [...counts.values()].sort((a, b) => b.n - a.n || compareShapes(b.shape, a.shape));
  const out: TaskShape[] = [];
  const weights: number[] = [];
  let cum = 0;
  for (const c of sorted) {
    if (cum >= coverage * total) break;
    out.push(c.shape);
    weights.push(c.n);
    cum += c.n;
  }
  return { shapes: out, weights: weights.map((w) => w / cum) };
}

/** FGD's PodResource.Less: by CPU, then GPU milli, then GPU count, then model. */
function compareShapes(a: TaskShape, b: TaskShape): number {
  return a.cpu - b.cpu || a.milli - b.milli || a.gpus - b.gpus || (a.models?.join('|') ?? '').localeCompare(b.models?.join('|') ?? '');
}

/** A mix from explicit shapes and weights (e.g. a pipeline config file); weights are normalised. */
export function mixOf(entries: readonly { readonly shape: TaskShape; readonly weight: number }[]): ShapeMix {
  let sum = 0;
  for (const e of entries) sum += e.weight;
  if (!(sum > 0)) return EMPTY_MIX;
  return { shapes: entries.map((e) => e.shape), weights: entries.map((e) => e.weight / sum) };
}

/** Free milli per device of a node whose devices hold `used` milli each (plus `reserved` in flight). */
export function freeInto(out: Float64Array, used: ArrayLike<number> | undefined, reserved: ArrayLike<number> | undefined, devices: number): void {
  for (let i = 0; i < devices; i++) {
    const u = (used === undefined ? 0 : used[i]) + (reserved === undefined || i >= reserved.length ? 0 : reserved[i]);
    const f = MILLI_PER_GPU - u;
    out[i] = f > 0 ? f : 0;
  }
}
