/**
 * A compiled placement pipeline: the filters in order, the scorers with weights, and the scratch
 * state one decision needs (reused across decisions, so placing allocates nothing per node).
 */
import type { TaskRequest } from '@tessera/core';
import { LABEL_CONSTRAINTS } from './filters/label-constraints.ts';
import { NODE_STATE } from './filters/node-state.ts';
import { RESOURCE_FIT } from './filters/resource-fit.ts';
import type { CandidateNode, FilterPlugin, ScoredNode, ScorerPlugin } from './plugin.ts';
import { defaultRegistry, type PluginRegistry } from './registry.ts';
import { PREFERENCES } from './scorers/preferences.ts';

export type ScorerName = 'binpack' | 'spread';
export const SCORER_NAMES: readonly ScorerName[] = Object.freeze(['binpack', 'spread'] as const);

/**
 * Default filter order. Filters that can refuse a node for good run first, so a node that can
 * never take the task is counted under that reason and not under a passing one like "not ready";
 * that is what makes `retryable` exact.
 */
export const DEFAULT_FILTERS: readonly string[] = Object.freeze([LABEL_CONSTRAINTS, RESOURCE_FIT, NODE_STATE]);

export type ScorerRef = string | { readonly name: string; readonly weight: number };

export interface PipelineSpec {
  /** Filter names, run in this order (default {@link DEFAULT_FILTERS}). */
  readonly filters?: readonly string[];
  /** Scorer names (weight 1) or `{ name, weight }`; the node score is their weighted mean. */
  readonly scorers: readonly ScorerRef[];
}

export class Pipeline {
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorerPlugin[];
  readonly weights: Float64Array;
  private readonly unresolvable: ReadonlySet<string>;
  /** Per-decision scratch: rejections by reason, and each scorer's weight for the current task. */
  private readonly counts = new Map<string, number>();
  private readonly active: Float64Array;
  private activeTotal = 0;
  private activeCount = 0;
  private single = -1;

  constructor(filters: readonly FilterPlugin[], scorers: readonly ScorerPlugin[], weights: readonly number[]) {
    if (scorers.length === 0) throw new RangeError('a pipeline needs at least one scorer');
    if (weights.length !== scorers.length) throw new RangeError('one weight per scorer');
    for (const w of weights) if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`scorer weights must be finite and ≥ 0, got ${w}`);
    this.filters = Object.freeze([...filters]);
    this.scorers = Object.freeze([...scorers]);
    this.weights = Float64Array.from(weights);
    this.active = new Float64Array(scorers.length);
    this.unresolvable = new Set(filters.flatMap((f) => f.unresolvable));
  }

  /** The first reason a filter refuses the node for, or undefined when every filter accepts it. */
  rejection(node: CandidateNode, task: TaskRequest): string | undefined {
    const fs = this.filters;
    for (let i = 0; i < fs.length; i++) {
      const r = fs[i].filter(node, task);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Whether `reason` means the node can never take the task. */
  isUnresolvable(reason: string): boolean {
    return this.unresolvable.has(reason);
  }

  /** Prepares scoring for one task: which scorers apply and their weights. */
  beginTask(task: TaskRequest): void {
    this.counts.clear();
    let total = 0;
    let count = 0;
    let single = -1;
    for (let i = 0; i < this.scorers.length; i++) {
      const w = this.weights[i] > 0 && this.scorers[i].appliesTo(task) ? this.weights[i] : 0;
      this.active[i] = w;
      if (w > 0) {
        total += w;
        count++;
        single = i;
      }
    }
    this.activeTotal = total;
    this.activeCount = count;
    this.single = count === 1 ? single : -1;
  }

  /** Weighted mean of the applicable scorers, in [0, 1]; 0 when none applies. Call after beginTask. */
  score(node: ScoredNode, task: TaskRequest): number {
    if (this.single >= 0) return clamp01(this.scorers[this.single].score(node, task));
    if (this.activeCount === 0) return 0;
    let sum = 0;
    for (let i = 0; i < this.scorers.length; i++) {
      const w = this.active[i];
      if (w > 0) sum += w * clamp01(this.scorers[i].score(node, task));
    }
    return sum / this.activeTotal;
  }

  /** Counts one rejected node. */
  reject(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  /** Rejections counted since beginTask, as a fresh record (only built when placement fails). */
  reasons(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [r, n] of this.counts) out[r] = n;
    return out;
  }

  /** True when some rejection since beginTask could go away by waiting (node full now, not ready). */
  anyResolvable(): boolean {
    for (const r of this.counts.keys()) if (!this.unresolvable.has(r)) return true;
    return false;
  }
}

function clamp01(x: number): number {
  return x > 0 ? (x < 1 ? x : 1) : 0; // also maps NaN to 0
}

/** Builds a pipeline from plugin names. Throws UnknownPluginError for a name not registered. */
export function createPipeline(spec: PipelineSpec, registry: PluginRegistry = defaultRegistry): Pipeline {
  const filters = (spec.filters ?? DEFAULT_FILTERS).map((n) => registry.filter(n));
  const scorers: ScorerPlugin[] = [];
  const weights: number[] = [];
  for (const ref of spec.scorers) {
    const name = typeof ref === 'string' ? ref : ref.name;
    scorers.push(registry.scorer(name));
    weights.push(typeof ref === 'string' ? 1 : ref.weight);
  }
  return new Pipeline(filters, scorers, weights);
}

const defaults = new Map<string, Pipeline>();

/** The pipeline `placeTask` uses when none is given: default filters, `scorer`, plus soft preferences. */
export function defaultPipeline(scorer: ScorerName): Pipeline {
  let p = defaults.get(scorer);
  if (p === undefined) {
    p = createPipeline({ scorers: [scorer, PREFERENCES] });
    defaults.set(scorer, p);
  }
  return p;
}
