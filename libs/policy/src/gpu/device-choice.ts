/**
 * Which GPU devices a task takes on the node placement chose (FGD's GPU selection, `-gpusel`):
 * `best` (the default of FGD's baselines: a share on the fullest device that takes it, whole GPUs
 * on the first free ones) or `random` (a share on a uniformly drawn device that takes it).
 */
import { bestFitDevices, gpuDims, sharedMilliOf, wholeGpusOf, type ResourceSpace, type TaskRequest } from '@tessera/core';
import type { ScoredNode } from '../plugin.ts';
import type { GpuScoredNode } from './node-state.ts';

/** Best-fit devices for `task` on `node` (see core's bestFitDevices). */
export function bestFitChoice(space: ResourceSpace): (node: ScoredNode, task: TaskRequest) => readonly number[] | undefined {
  const dims = gpuDims(space);
  return (node, task) => {
    const n = node as GpuScoredNode;
    return bestFitDevices(n.gpus, n.reservedGpus, wholeGpusOf(task.demand, dims), sharedMilliOf(task.demand, dims));
  };
}

/** 32-bit FNV-1a of a string, mixed with a seed: a stable pseudo-random draw without an rng. */
export function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
