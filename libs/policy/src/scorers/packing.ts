/**
 * GpuPacking, FGD's baseline (kubernetes-scheduler-simulator `gpu_packing_score.go`): GPU tasks go
 * first to partly used GPUs, then to free GPUs of a used node, then to an entirely free node.
 * Scores (FGD's integers on 0..100, here ÷ 100):
 * 1. the task fits on already-shared devices: 100 − (free % of those devices) / 10, at least 50;
 * 2. it must take fully free devices on a used node: 50 − the number of them, at least 33;
 * 3. every device of the node is free: 33 − the node's free devices (at least that number).
 * A task without GPUs scores 0 everywhere (FGD's MinNodeScore). Devices: best fit.
 */
import { PluginArgsError } from '../errors.ts';
import { MILLI_PER_GPU, type ResourceSpace } from '@tessera/core';
import { bestFitChoice } from '../gpu/device-choice.ts';
import { FragScratch, type GpuScoredNode } from '../gpu/node-state.ts';
import { ShapeMemo } from '../gpu/shapes.ts';
import type { ScorerPlugin } from '../plugin.ts';

export const PACKING = 'packing';
const MAX = 100;

/** FGD's getPackingScore on a node's free milli per device, as an integer 0..100 (undefined: the task does not fit). */
export function packingScore(free: ArrayLike<number>, devices: number, milli: number, gpus: number): number | undefined {
  let fullyFree = 0;
  for (let i = 0; i < devices; i++) if (free[i] >= MILLI_PER_GPU) fullyFree++;
  if (fullyFree === devices) return Math.max(Math.trunc(MAX / 3) - fullyFree, fullyFree);
  // Devices by free milli ascending (stable), the least free that fit first.
  const order = Array.from({ length: devices }, (_, i) => i).sort((a, b) => free[a] - free[b]);
  let need = gpus;
  let freeToUse = 0;
  let ratio = 0;
  for (const d of order) {
    if (need === 0) break;
    if (milli <= free[d]) {
      need--;
      if (free[d] >= MILLI_PER_GPU) freeToUse++;
      ratio += Math.trunc((free[d] * 100) / MILLI_PER_GPU);
    }
  }
  if (need !== 0) return undefined;
  if (freeToUse > 0) return Math.max(Math.trunc(MAX / 2) - freeToUse, Math.trunc(MAX / 3));
  return Math.max(MAX - Math.trunc(ratio / 10), Math.trunc(MAX / 2));
}

export function createPackingScorer(rawArgs: unknown, h: { readonly space: ResourceSpace }): ScorerPlugin {
  if (rawArgs !== undefined && rawArgs !== null && (typeof rawArgs !== 'object' || Object.keys(rawArgs).length > 0)) throw new PluginArgsError(PACKING, `takes no args`);
  const scratch = new FragScratch(h.space);
  const shapes = new ShapeMemo(h.space);
  return {
    name: PACKING,
    appliesTo: () => true,
    score: (node, task) => {
      const s = shapes.of(task);
      if (s.gpus === 0) return 0;
      const n = scratch.load(node as GpuScoredNode);
      return (packingScore(n.free, n.devices, s.milli, s.gpus) ?? 0) / MAX;
    },
    devices: bestFitChoice(h.space),
  };
}
