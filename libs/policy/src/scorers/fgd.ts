/**
 * FGD, Fragmentation Gradient Descent (Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing
 * Workloads with Fragmentation Gradient Descent", USENIX ATC'23), as its simulator implements it
 * (kubernetes-scheduler-simulator `pkg/simulator/plugin/fgd_score.go`): place the task on the node
 * and device that least increase the node's expected fragmentation under the mix of task shapes.
 *
 * score = sigmoid((frag(node) − frag(node with the task)) / 1000), truncated to `resolution` steps
 * (FGD's int64(sigmoid(·) × 100), the default; 0 keeps the exact value). For a GPU share the
 * device that scores best is chosen (the first one on ties, as FGD); whole GPUs take the first free
 * devices (FGD's AllocateExclusiveGpuId). A CPU-only task is scored too: taking CPU from a GPU node
 * can strand its GPUs (FGD's Q4, "lack CPU").
 *
 * The mix: `args.mix` (a fixed mix, e.g. from a pipeline config file: `[{cpu, milli, gpus,
 * models?, weight}]`), or learned from the tasks this scheduler places — the shapes of the last
 * `args.window` distinct tasks (default 2,000) seen by `prepare`, FGD's typical shapes covering
 * `args.coverage` (default 0.95) of them.
 */
import { PluginArgsError } from '../errors.ts';
import { MILLI_PER_GPU, type ResourceSpace, type TaskRequest } from '@tessera/core';
import { mixOf, nodeFrag, type ShapeMix } from '../gpu/frag.ts';
import { FragScratch, type GpuScoredNode } from '../gpu/node-state.ts';
import { ShapeWindow } from '../gpu/shape-window.ts';
import { ShapeMemo, type TaskShape } from '../gpu/shapes.ts';
import type { ScorerPlugin } from '../plugin.ts';

export const FGD = 'fgd';
export const DEFAULT_FGD_WINDOW = 2000;
export const DEFAULT_FGD_RESOLUTION = 100;

export interface FgdArgs {
  readonly mix?: readonly (TaskShape & { readonly weight: number })[];
  readonly window?: number;
  readonly coverage?: number;
  readonly resolution?: number;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function quantize(x: number, resolution: number): number {
  return resolution > 0 ? Math.floor(x * resolution) / resolution : x;
}

/**
 * The FGD evaluation of one task on one node: the score, and the devices it would take
 * (undefined when the task does not fit the node's devices; empty when it needs none).
 */
export class FgdEvaluator {
  private readonly now: FragScratch;
  private readonly after: FragScratch;
  private readonly shapes: ShapeMemo;
  /** Devices of the last evaluation. */
  chosen: number[] | undefined;

  constructor(space: ResourceSpace, readonly resolution = DEFAULT_FGD_RESOLUTION) {
    this.shapes = new ShapeMemo(space);
    this.now = new FragScratch(space);
    this.after = new FragScratch(space);
  }

  shapeOf(task: TaskRequest): TaskShape {
    return this.shapes.of(task);
  }

  /** Score in [0, 1]; sets `chosen`. */
  evaluate(mix: ShapeMix, node: GpuScoredNode, task: TaskRequest): number {
    const shape = this.shapeOf(task);
    const now = this.now.load(node);
    const before = nodeFrag(mix, now);
    const after = this.after;
    if (shape.gpus === 0) {
      after.copyFrom(now).cpuLeft -= shape.cpu;
      this.chosen = [];
      return quantize(sigmoid((before - nodeFrag(mix, after)) / 1000), this.resolution);
    }
    if (shape.milli >= MILLI_PER_GPU) {
      after.copyFrom(now).cpuLeft -= shape.cpu;
      const picked: number[] = [];
      for (let i = 0; i < now.devices && picked.length < shape.gpus; i++) {
        if (now.free[i] >= MILLI_PER_GPU) {
          picked.push(i);
          after.free[i] = 0;
        }
      }
      if (picked.length < shape.gpus) {
        this.chosen = undefined;
        return 0;
      }
      this.chosen = picked;
      return quantize(sigmoid((before - nodeFrag(mix, after)) / 1000), this.resolution);
    }
    // A share: every device with room, the best-scoring one (first on ties); equal free amounts
    // give equal states, so each distinct amount is evaluated once.
    let best = -1;
    let bestDevice = -1;
    let lastFree = -1;
    let lastScore = 0;
    for (let i = 0; i < now.devices; i++) {
      const f = now.free[i];
      if (f < shape.milli) continue;
      let s: number;
      if (f === lastFree) {
        s = lastScore;
      } else {
        after.copyFrom(now).cpuLeft -= shape.cpu;
        after.free[i] = f - shape.milli;
        s = quantize(sigmoid((before - nodeFrag(mix, after)) / 1000), this.resolution);
        lastFree = f;
        lastScore = s;
      }
      if (s > best) {
        best = s;
        bestDevice = i;
      }
    }
    this.chosen = bestDevice < 0 ? undefined : [bestDevice];
    return best < 0 ? 0 : best;
  }
}

export interface FgdScorer extends ScorerPlugin {
  /** The mix scores are computed against right now. */
  mix(): ShapeMix;
  /** Counts a task in the learned mix (what `prepare` does for every task of a placement call). */
  observe(task: TaskRequest): void;
}

function checkArgs(raw: unknown): FgdArgs {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new PluginArgsError(FGD, 'args must be an object {mix?, window?, coverage?, resolution?}');
  const a = raw as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!['mix', 'window', 'coverage', 'resolution'].includes(k)) throw new PluginArgsError(FGD, `unknown arg "${k}"`);
  if (a.window !== undefined && !(Number.isInteger(a.window) && (a.window as number) >= 1)) throw new PluginArgsError(FGD, 'window must be an integer ≥ 1');
  if (a.coverage !== undefined && !(typeof a.coverage === 'number' && a.coverage > 0 && a.coverage <= 1)) throw new PluginArgsError(FGD, 'coverage must be in (0, 1]');
  if (a.resolution !== undefined && !(Number.isInteger(a.resolution) && (a.resolution as number) >= 0)) throw new PluginArgsError(FGD, 'resolution must be an integer ≥ 0');
  if (a.mix !== undefined) {
    if (!Array.isArray(a.mix) || a.mix.length === 0) throw new PluginArgsError(FGD, 'mix must be a non-empty list of {cpu, milli, gpus, models?, weight}');
    a.mix.forEach((e: unknown, i: number) => {
      const x = e as Record<string, unknown>;
      const num = (k: string) => typeof x?.[k] === 'number' && Number.isFinite(x[k]) && (x[k] as number) >= 0;
      if (!num('cpu') || !num('milli') || !num('gpus') || !num('weight')) throw new PluginArgsError(FGD, `mix[${i}] needs numbers cpu, milli, gpus, weight ≥ 0`);
      if (x.models !== undefined && !(Array.isArray(x.models) && x.models.every((m) => typeof m === 'string'))) throw new PluginArgsError(FGD, `mix[${i}].models must be a list of GPU models`);
    });
  }
  return a as FgdArgs;
}

/** The FGD scorer factory: `(args, { space })`. */
export function createFgdScorer(rawArgs: unknown, h: { readonly space: ResourceSpace }): FgdScorer {
  const args = checkArgs(rawArgs);
  const fixed = args.mix === undefined ? undefined : mixOf(args.mix.map((e) => ({ shape: { cpu: e.cpu, milli: e.milli, gpus: e.gpus, models: e.models }, weight: e.weight })));
  const window = fixed === undefined ? new ShapeWindow(args.window ?? DEFAULT_FGD_WINDOW, args.coverage ?? 0.95) : undefined;
  const ev = new FgdEvaluator(h.space, args.resolution ?? DEFAULT_FGD_RESOLUTION);
  const mix = (): ShapeMix => fixed ?? window!.current();
  const observe = (task: TaskRequest): void => window?.observe(task.id, ev.shapeOf(task));
  return {
    name: FGD,
    appliesTo: () => true,
    score: (node, task) => ev.evaluate(mix(), node as GpuScoredNode, task),
    prepare: (ctx: { readonly tasks: readonly TaskRequest[] }) => {
      for (const t of ctx.tasks) observe(t);
      return undefined;
    },
    mix,
    observe,
    devices: (node, task) => {
      ev.evaluate(mix(), node as GpuScoredNode, task);
      return ev.chosen;
    },
  } as FgdScorer;
}
