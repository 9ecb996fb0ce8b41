/**
 * BestFit, FGD's baseline (kubernetes-scheduler-simulator `best_fit_score.go`): prefer the node
 * whose CPU and GPU left after placing are smallest, over [CPU milli left, GPU milli left] weighted
 * ½ each and normalised by the largest node spec (128 cores, 8 GPUs):
 * score = 1 − Σ ½·(free − request)/maxSpec, truncated to `resolution` steps (FGD: ×100 as int64;
 * 0 keeps the exact value). Devices: best fit.
 */
import type { ResourceSpace, TaskRequest } from '@tessera/core';
import { bestFitChoice } from '../gpu/device-choice.ts';
import { freeMilliOf } from '../gpu/frag.ts';
import { FragScratch, type GpuScoredNode } from '../gpu/node-state.ts';
import { ShapeMemo } from '../gpu/shapes.ts';
import type { ScorerPlugin } from '../plugin.ts';
import { checkResolution } from './gpu-args.ts';

export const BESTFIT = 'bestfit';
/** FGD's MaxSpecCpu / MaxSpecGpu (pkg/type/open-gpu-share/utils/const.go). */
export const MAX_SPEC_CPU = 128_000;
export const MAX_SPEC_GPU_MILLI = 8000;

export function createBestfitScorer(rawArgs: unknown, h: { readonly space: ResourceSpace }): ScorerPlugin {
  const resolution = checkResolution(BESTFIT, rawArgs);
  const scratch = new FragScratch(h.space);
  const space = h.space;
  const shapes = new ShapeMemo(space);
  return {
    name: BESTFIT,
    appliesTo: () => true,
    score: (node, task: TaskRequest) => {
      const n = scratch.load(node as GpuScoredNode);
      const s = shapes.of(task);
      const cpu = (n.cpuLeft - s.cpu) / MAX_SPEC_CPU;
      const gpu = (freeMilliOf(n) - s.milli * s.gpus) / MAX_SPEC_GPU_MILLI;
      const v = 1 - 0.5 * cpu - 0.5 * gpu;
      return resolution > 0 ? Math.floor(v * resolution) / resolution : v;
    },
    devices: bestFitChoice(space),
  };
}
