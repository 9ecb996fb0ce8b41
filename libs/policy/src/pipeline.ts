/**
 * A compiled placement pipeline: the filters in order, the scorers with weights, the post-filters,
 * built once from a {@link PipelineSpec} through the registry's factories. Immutable: the scratch
 * of a decision lives in the call's PlacementContext, never here or at module level.
 */
import type { ResourceSpace, TaskRequest } from '@tessera/core';
import type { PlacementContext } from './context.ts';
import { LABEL_CONSTRAINTS } from './filters/label-constraints.ts';
import { NODE_STATE } from './filters/node-state.ts';
import { RESOURCE_FIT } from './filters/resource-fit.ts';
import { GPU_DEVICES } from './filters/gpu-devices.ts';
import { PLACEMENT_RULES } from './filters/placement-rules.ts';
import type { CandidateNode, FilterPlugin, PluginHooks, PostFilterPlugin, ScorerPlugin } from './plugin.ts';
import { defaultRegistry, type PluginRegistry } from './registry.ts';
import { BINPACK } from './scorers/binpack.ts';
import { PREFERENCES } from './scorers/preferences.ts';
import { SPREAD } from './scorers/spread.ts';

/** The `--scorer` shorthands (any registered scorer name is accepted too). */
export type ScorerName = 'binpack' | 'spread';
export const SCORER_NAMES: readonly ScorerName[] = Object.freeze([BINPACK, SPREAD] as const);

/**
 * Default filter order. Filters that can refuse a node for good run first, so a node that can
 * never take the task is counted under that reason and not under a passing one like "not ready";
 * that is what makes `retryable` exact.
 */
export const DEFAULT_FILTERS: readonly string[] = Object.freeze([LABEL_CONSTRAINTS, RESOURCE_FIT, GPU_DEVICES, NODE_STATE, PLACEMENT_RULES]);

/** A plugin by name, with optional factory arguments. */
export interface PluginRef {
  readonly name: string;
  readonly args?: unknown;
}

/** A scorer by name, with a weight (default 1) and optional factory arguments. */
export interface ScorerRef extends PluginRef {
  readonly weight?: number;
}

/**
 * A pipeline as configuration (scheduler `--pipeline`, sim `--pipeline`, a config file):
 * `{ filters?: [{name, args?}], scorers: [{name, weight?, args?}], postFilters?: [{name, args?}] }`.
 * A bare string stands for `{ name }`.
 */
export interface PipelineSpec {
  /** Run in this order (default {@link DEFAULT_FILTERS}). */
  readonly filters?: readonly (string | PluginRef)[];
  /** The node score is their weighted mean. */
  readonly scorers: readonly (string | ScorerRef)[];
  /** Run in order when a task fits nowhere for a retryable reason; the first result wins. */
  readonly postFilters?: readonly (string | PluginRef)[];
}

export class Pipeline {
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorerPlugin[];
  readonly weights: Float64Array;
  readonly postFilters: readonly PostFilterPlugin[];
  /** The filters that apply to every task (no `appliesTo`), in order. */
  private readonly unconditional: readonly FilterPlugin[];
  private readonly conditional: boolean;
  /** Every plugin with a prepare or reserve hook (each once). */
  readonly hooked: readonly (PluginHooks & { readonly name: string })[];
  private readonly unresolvable: ReadonlySet<string>;

  constructor(filters: readonly FilterPlugin[], scorers: readonly ScorerPlugin[], weights: readonly number[], postFilters: readonly PostFilterPlugin[] = []) {
    if (scorers.length === 0) throw new RangeError('a pipeline needs at least one scorer');
    if (weights.length !== scorers.length) throw new RangeError('one weight per scorer');
    for (const w of weights) if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`scorer weights must be finite and ≥ 0, got ${w}`);
    this.filters = Object.freeze([...filters]);
    this.unconditional = Object.freeze(filters.filter((f) => f.appliesTo === undefined));
    this.conditional = this.unconditional.length < filters.length;
    this.scorers = Object.freeze([...scorers]);
    this.weights = Float64Array.from(weights);
    this.postFilters = Object.freeze([...postFilters]);
    const hooked = new Set<PluginHooks & { readonly name: string }>();
    for (const p of [...filters, ...scorers, ...postFilters]) if (p.prepare !== undefined || p.reserve !== undefined) hooked.add(p);
    this.hooked = Object.freeze([...hooked]);
    this.unresolvable = new Set(filters.flatMap((f) => f.unresolvable));
  }

  /** The filters that apply to `task`, in order (the same array for every task none of the conditional ones applies to). */
  filtersFor(task: TaskRequest): readonly FilterPlugin[] {
    if (!this.conditional) return this.filters;
    let any = false;
    for (const f of this.filters) if (f.appliesTo !== undefined && f.appliesTo(task)) any = true;
    return any ? this.filters.filter((f) => f.appliesTo === undefined || f.appliesTo(task)) : this.unconditional;
  }

  /** The first reason a filter refuses the node for, or undefined when every filter accepts it. */
  rejection(node: CandidateNode, task: TaskRequest, ctx: PlacementContext): string | undefined {
    const fs = ctx.filters;
    for (let i = 0; i < fs.length; i++) {
      const r = fs[i].filter(node, task, ctx);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Whether `reason` means the node can never take the task. */
  isUnresolvable(reason: string): boolean {
    return this.unresolvable.has(reason);
  }
}

export interface PipelineBuild {
  /** The cell's resource space, handed to every factory. */
  readonly space: ResourceSpace;
  readonly registry?: PluginRegistry;
}

const refOf = (r: string | PluginRef): PluginRef => (typeof r === 'string' ? { name: r } : r);

/** Builds a pipeline through the registry's factories. Throws UnknownPluginError / PluginArgsError. */
export function createPipeline(spec: PipelineSpec, build: PipelineBuild): Pipeline {
  const registry = build.registry ?? defaultRegistry;
  const h = { space: build.space };
  const filters = (spec.filters ?? DEFAULT_FILTERS).map(refOf).map((r) => registry.filter(r.name, r.args, h));
  const scorers: ScorerPlugin[] = [];
  const weights: number[] = [];
  for (const ref of spec.scorers) {
    const r = refOf(ref) as ScorerRef;
    scorers.push(registry.scorer(r.name, r.args, h));
    weights.push(r.weight ?? 1);
  }
  const postFilters = (spec.postFilters ?? []).map(refOf).map((r) => registry.postFilter(r.name, r.args, h));
  return new Pipeline(filters, scorers, weights, postFilters);
}

/** The spec `--scorer NAME` stands for: default filters, that scorer, plus soft preferences. */
export function scorerShorthand(scorer: string): PipelineSpec {
  return { scorers: [scorer, PREFERENCES] };
}

const defaults = new WeakMap<ResourceSpace, Map<string, Pipeline>>();

/** The pipeline `placeTask` uses when none is given: {@link scorerShorthand} of `scorer`, built once per space. */
export function defaultPipeline(scorer: string, space: ResourceSpace): Pipeline {
  let bySpace = defaults.get(space);
  if (bySpace === undefined) defaults.set(space, (bySpace = new Map()));
  let p = bySpace.get(scorer);
  if (p === undefined) {
    p = createPipeline(scorerShorthand(scorer), { space });
    bySpace.set(scorer, p);
  }
  return p;
}
