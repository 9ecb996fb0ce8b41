/**
 * DotProd, FGD's baseline after Tetris (kubernetes-scheduler-simulator `dot_product_score.go` with
 * `-dimext merge -norm max`, the setting of FGD's experiments): the node's free [CPU milli, GPU milli]
 * and the task's request, each normalised by the largest node spec (128 cores, 8 GPUs); score =
 * 1 − (free · request) / 2, truncated to `resolution` steps (FGD ×100 as int64). Devices: best fit.
 */
import type { ResourceSpace } from '@tessera/core';
import { bestFitChoice } from '../gpu/device-choice.ts';
import { freeMilliOf } from '../gpu/frag.ts';
import { FragScratch, type GpuScoredNode } from '../gpu/node-state.ts';
import { ShapeMemo } from '../gpu/shapes.ts';
import type { ScorerPlugin } from '../plugin.ts';
import { MAX_SPEC_CPU, MAX_SPEC_GPU_MILLI } from './bestfit.ts';
import { checkResolution } from './gpu-args.ts';

export const DOTPROD = 'dotprod';

export function createDotprodScorer(rawArgs: unknown, h: { readonly space: ResourceSpace }): ScorerPlugin {
  const resolution = checkResolution(DOTPROD, rawArgs);
  const scratch = new FragScratch(h.space);
  const shapes = new ShapeMemo(h.space);
  return {
    name: DOTPROD,
    appliesTo: () => true,
    score: (node, task) => {
      const s = shapes.of(task);
      const n = scratch.load(node as GpuScoredNode);
      if (n.cpuLeft < s.cpu) return 0;
      const dot = (n.cpuLeft / MAX_SPEC_CPU) * (s.cpu / MAX_SPEC_CPU) + (freeMilliOf(n) / MAX_SPEC_GPU_MILLI) * ((s.milli * s.gpus) / MAX_SPEC_GPU_MILLI);
      const v = 1 - dot / 2;
      return resolution > 0 ? Math.floor(v * resolution) / resolution : v;
    },
    devices: bestFitChoice(h.space),
  };
}
