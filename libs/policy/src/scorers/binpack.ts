/**
 * Binpack: prefer the node that is most allocated (by dominant share) once the task is placed,
 * keeping whole nodes free for large tasks. Score = dominant share after placing, in [0, 1].
 */
import type { TaskRequest } from '@tessera/core';
import { dominantShareAfter } from '../load.ts';
import type { ScoredNode, ScorerPlugin } from '../plugin.ts';

export const BINPACK = 'binpack';

export function binpackScore(node: ScoredNode, task: TaskRequest): number {
  return dominantShareAfter(node.capacity, node.allocated, node.reserved, task.demand);
}

export const binpackScorer: ScorerPlugin = {
  name: BINPACK,
  appliesTo: () => true,
  score: binpackScore,
};
