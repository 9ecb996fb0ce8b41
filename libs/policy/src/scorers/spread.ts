/**
 * Spread: prefer the least allocated node (by dominant share) once the task is placed, evening
 * out load. Score = 1 − dominant share after placing, in [0, 1].
 */
import type { TaskRequest } from '@tessera/core';
import { dominantShareAfter } from '../load.ts';
import type { ScoredNode, ScorerPlugin } from '../plugin.ts';

export const SPREAD = 'spread';

export function spreadScore(node: ScoredNode, task: TaskRequest): number {
  return 1 - dominantShareAfter(node.capacity, node.allocated, node.reserved, task.demand);
}

export const spreadScorer: ScorerPlugin = {
  name: SPREAD,
  appliesTo: () => true,
  score: spreadScore,
};
