/**
 * @tessera/policy: pure placement. Filters and scorers (one per file, registered by name),
 * seeded candidate sampling, and the ParSync placement modes.
 */
export { createRng, type Rng } from './rng.ts';
export {
  AdaptiveMode,
  EFFECTIVE_MODES,
  PLACEMENT_MODES,
  isPlacementMode,
  type AdaptiveModeOptions,
  type EffectiveMode,
  type PlacementMode,
} from './modes.ts';
export {
  placeTask,
  placeJob,
  forgetClaims,
  scoreNode,
  type JobPlacement,
  type PlaceOptions,
  type Placement,
  type PlacementFailure,
} from './place.ts';
export {
  DEFAULT_FILTERS,
  Pipeline,
  SCORER_NAMES,
  createPipeline,
  defaultPipeline,
  type PipelineSpec,
  type ScorerName,
  type ScorerRef,
} from './pipeline.ts';
export { PluginRegistry, createDefaultRegistry, defaultRegistry } from './registry.ts';
export type { CandidateNode, FilterPlugin, ScoredNode, ScorerPlugin } from './plugin.ts';
export { DuplicatePluginError, UnknownPluginError } from './errors.ts';
export { dominantShareAfter } from './load.ts';
export { coprimeStride } from './sampling.ts';
export { RESOURCE_FIT, resourceFit, resourceFitFilter } from './filters/resource-fit.ts';
export { NODE_STATE, nodeReady, nodeStateFilter } from './filters/node-state.ts';
export { LABEL_CONSTRAINTS, labelConstraints, labelConstraintsFilter } from './filters/label-constraints.ts';
export { BINPACK, binpackScore, binpackScorer } from './scorers/binpack.ts';
export { SPREAD, spreadScore, spreadScorer } from './scorers/spread.ts';
export { DEFAULT_PREFERENCE_WEIGHT, PREFERENCES, preferencesScore, preferencesScorer } from './scorers/preferences.ts';
export * from './gpu/index.ts';
