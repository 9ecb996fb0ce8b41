/**
 * Filters and scorers by name, as kube-scheduler's plugin registry: a pipeline is described by
 * names (configuration), and a new policy is a new file plus one `register` call.
 */
import { DuplicatePluginError, UnknownPluginError } from './errors.ts';
import { labelConstraintsFilter } from './filters/label-constraints.ts';
import { nodeStateFilter } from './filters/node-state.ts';
import { resourceFitFilter } from './filters/resource-fit.ts';
import type { FilterPlugin, ScorerPlugin } from './plugin.ts';
import { binpackScorer } from './scorers/binpack.ts';
import { preferencesScorer } from './scorers/preferences.ts';
import { spreadScorer } from './scorers/spread.ts';

export class PluginRegistry {
  private readonly filters = new Map<string, FilterPlugin>();
  private readonly scorers = new Map<string, ScorerPlugin>();

  registerFilter(plugin: FilterPlugin): this {
    if (this.filters.has(plugin.name)) throw new DuplicatePluginError('filter', plugin.name);
    this.filters.set(plugin.name, plugin);
    return this;
  }

  registerScorer(plugin: ScorerPlugin): this {
    if (this.scorers.has(plugin.name)) throw new DuplicatePluginError('scorer', plugin.name);
    this.scorers.set(plugin.name, plugin);
    return this;
  }

  filter(name: string): FilterPlugin {
    const p = this.filters.get(name);
    if (p === undefined) throw new UnknownPluginError('filter', name, this.filterNames);
    return p;
  }

  scorer(name: string): ScorerPlugin {
    const p = this.scorers.get(name);
    if (p === undefined) throw new UnknownPluginError('scorer', name, this.scorerNames);
    return p;
  }

  hasFilter(name: string): boolean {
    return this.filters.has(name);
  }

  hasScorer(name: string): boolean {
    return this.scorers.has(name);
  }

  get filterNames(): string[] {
    return [...this.filters.keys()];
  }

  get scorerNames(): string[] {
    return [...this.scorers.keys()];
  }
}

/** A registry holding the built-in plugins; extend it (or a fresh one) with new policies. */
export function createDefaultRegistry(): PluginRegistry {
  return new PluginRegistry()
    .registerFilter(labelConstraintsFilter)
    .registerFilter(resourceFitFilter)
    .registerFilter(nodeStateFilter)
    .registerScorer(binpackScorer)
    .registerScorer(spreadScorer)
    .registerScorer(preferencesScorer);
}

/** The built-ins. Shared by `placeTask`'s default pipelines; register into your own registry instead. */
export const defaultRegistry: PluginRegistry = createDefaultRegistry();
