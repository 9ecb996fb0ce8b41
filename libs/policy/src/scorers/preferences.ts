/**
 * Soft preferences (Nomad's affinities): `task.preferences` are constraints with a weight that
 * raise a node's score instead of excluding it. Score = matched weight / total weight, in [0, 1].
 * Matching reuses core's `satisfies`, so a preference means exactly what the same constraint would.
 */
import { satisfies, type Constraint, type Labels, type Preference, type TaskRequest } from '@tessera/core';
import type { ScoredNode, ScorerPlugin } from '../plugin.ts';

export const PREFERENCES = 'preferences';

/** Weight of a preference that does not give one (Nomad's affinity default). */
export const DEFAULT_PREFERENCE_WEIGHT = 50;

const NO_LABELS: Labels = Object.freeze({});

function weightOf(p: Preference): number {
  return p.weight ?? DEFAULT_PREFERENCE_WEIGHT;
}

export function preferencesScore(node: ScoredNode, task: TaskRequest): number {
  const prefs = task.preferences;
  if (prefs === undefined) return 0;
  const labels = node.labels ?? NO_LABELS;
  let total = 0;
  let matched = 0;
  for (let i = 0; i < prefs.length; i++) {
    const w = weightOf(prefs[i]);
    total += w;
    // Preference ops are validated against CONSTRAINT_OPS by the job schema.
    if (w > 0 && satisfies(labels, prefs[i] as Constraint)) matched += w;
  }
  return total > 0 ? matched / total : 0;
}

export const preferencesScorer: ScorerPlugin = {
  name: PREFERENCES,
  appliesTo(task: TaskRequest): boolean {
    const prefs = task.preferences;
    if (prefs === undefined) return false;
    for (let i = 0; i < prefs.length; i++) if (weightOf(prefs[i]) > 0) return true;
    return false;
  },
  score: preferencesScore,
};
