/**
 * @tessera/policy: pure placement. Filters, scorers and post-filters (one per file, built by
 * factories registered by name), a pipeline configured by name with args and weights, a
 * per-call placement context, seeded candidate sampling, and the ParSync placement modes.
 */
export { createRng, FIRST_LISTED, type Rng } from './rng.ts';
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
  beginPlacement,
  bookPlacement,
  placeInContext,
  placeByPostFilters,
  placeTask,
  placeJob,
  forgetClaims,
  scoreNode,
  type JobPlacement,
  type PlaceOptions,
  type Placement,
  type PlacementFailure,
  type PlacementSuccess,
} from './place.ts';
export { PlacementContext, type PlacementJob } from './context.ts';
export {
  DEFAULT_FILTERS,
  Pipeline,
  SCORER_NAMES,
  createPipeline,
  defaultPipeline,
  scorerShorthand,
  type PipelineBuild,
  type PipelineSpec,
  type PluginRef,
  type ScorerName,
  type ScorerRef,
} from './pipeline.ts';
export { parsePipelineSpec, pipelineSpecFromText, pipelineSpecSchema } from './spec.ts';
export { PluginRegistry, createDefaultRegistry, defaultRegistry, noArgs } from './registry.ts';
export type {
  CandidateNode, FilterFactory, FilterPlugin, PluginHandle, PluginHooks, PostFilterFactory, PostFilterFailure,
  PostFilterPlugin, PostFilterResult, ScoredNode, ScorerFactory, ScorerPlugin,
} from './plugin.ts';
export { DuplicatePluginError, PipelineSpecError, PluginArgsError, UnknownPluginError, type PluginKind } from './errors.ts';
export { dominantShareAfter } from './load.ts';
export { coprimeStride } from './sampling.ts';
export { RESOURCE_FIT, resourceFit, resourceFitFilter } from './filters/resource-fit.ts';
export { NODE_STATE, nodeReady, nodeStateFilter } from './filters/node-state.ts';
export { LABEL_CONSTRAINTS, labelConstraints, labelConstraintsFilter } from './filters/label-constraints.ts';
export { BINPACK, binpackScore, binpackScorer } from './scorers/binpack.ts';
export { SPREAD, spreadScore, spreadScorer } from './scorers/spread.ts';
export { DEFAULT_PREFERENCE_WEIGHT, PREFERENCES, preferencesScore, preferencesScorer } from './scorers/preferences.ts';
export {
  PreemptionReason,
  PreemptionSession,
  pickCandidate,
  selectVictims,
  type ChosenVictim,
  type PreemptionChoice,
  type PreemptionNode,
  type PreemptionResult,
  type VictimTask,
} from './preemption/victims.ts';
export { DEFAULT_PREEMPTION_MAX_PER_SECOND, PREEMPTION, preemptionPostFilter, type PreemptionArgs } from './post-filters/preemption.ts';
export * from './gpu/index.ts';
