/**
 * Random, FGD's baseline (kubernetes-scheduler-simulator `random_score.go`, `-gpusel random`): a
 * uniformly drawn feasible node, and for a GPU share a uniformly drawn device that takes it. The
 * draw is a hash of (seed, task id, node id / device), so it is deterministic and needs no rng.
 */
import { PluginArgsError } from '../errors.ts';
import { MILLI_PER_GPU, type ResourceSpace } from '@tessera/core';
import { hash32 } from '../gpu/device-choice.ts';
import { FragScratch, type GpuScoredNode } from '../gpu/node-state.ts';
import { ShapeMemo } from '../gpu/shapes.ts';
import type { ScorerPlugin } from '../plugin.ts';

export const RANDOM = 'random';

export function createRandomScorer(rawArgs: unknown, h: { readonly space: ResourceSpace }): ScorerPlugin {
  const a = (rawArgs ?? {}) as Record<string, unknown>;
  if (typeof a !== 'object' || Array.isArray(a) || Object.keys(a).some((k) => k !== 'seed')) throw new PluginArgsError(RANDOM, `args are {seed?}`);
  if (a.seed !== undefined && !Number.isInteger(a.seed)) throw new PluginArgsError(RANDOM, `seed must be an integer`);
  const seed = (a.seed as number | undefined) ?? 0;
  const scratch = new FragScratch(h.space);
  const shapes = new ShapeMemo(h.space);
  return {
    name: RANDOM,
    appliesTo: () => true,
    score: (node, task) => hash32(`${task.id}@${(node as { id?: string }).id ?? ''}`, seed) / 0x1_0000_0000,
    devices: (node, task) => {
      const s = shapes.of(task);
      if (s.gpus === 0) return [];
      const n = scratch.load(node as GpuScoredNode);
      if (s.milli >= MILLI_PER_GPU) {
        const out: number[] = [];
        for (let i = 0; i < n.devices && out.length < s.gpus; i++) if (n.free[i] >= MILLI_PER_GPU) out.push(i);
        return out.length === s.gpus ? out : undefined;
      }
      let best = -1;
      let bestDraw = -1;
      for (let i = 0; i < n.devices; i++) {
        if (n.free[i] < s.milli) continue;
        const d = hash32(`${task.id}#${i}`, seed);
        if (d > bestDraw) {
          bestDraw = d;
          best = i;
        }
      }
      return best < 0 ? undefined : [best];
    },
  };
}
