/**
 * Plugin factories by name, as kube-scheduler's plugin registry: a pipeline is described by names
 * and arguments (configuration), and a new policy is a new file plus one `register…` call.
 */
import { DuplicatePluginError, PluginArgsError, UnknownPluginError, type PluginKind } from './errors.ts';
import { labelConstraintsFilter } from './filters/label-constraints.ts';
import { nodeStateFilter } from './filters/node-state.ts';
import { placementRulesFilter } from './filters/placement-rules.ts';
import { resourceFitFilter } from './filters/resource-fit.ts';
import type {
  FilterFactory, FilterPlugin, PluginHandle, PostFilterFactory, PostFilterPlugin, ScorerFactory, ScorerPlugin,
} from './plugin.ts';
import { PREEMPTION, preemptionPostFilter } from './post-filters/preemption.ts';
import { binpackScorer } from './scorers/binpack.ts';
import { preferencesScorer } from './scorers/preferences.ts';
import { spreadScorer } from './scorers/spread.ts';
import { registerGpuPlugins } from './gpu/register.ts';

type Factory<P> = (args: unknown, h: PluginHandle) => P;

/** A factory for a plugin that takes no arguments (refuses any, so a typo in a config file shows). */
export function noArgs<P extends { readonly name: string }>(plugin: P): Factory<P> {
  return (args: unknown) => {
    if (args !== undefined && !(typeof args === 'object' && args !== null && Object.keys(args).length === 0)) {
      throw new PluginArgsError(plugin.name, 'takes no args');
    }
    return plugin;
  };
}

class Table<P extends { readonly name: string }> {
  private readonly factories = new Map<string, Factory<P>>();
  constructor(private readonly kind: PluginKind) {}

  add(nameOrPlugin: string | P, factory?: Factory<P>): void {
    const name = typeof nameOrPlugin === 'string' ? nameOrPlugin : nameOrPlugin.name;
    if (this.factories.has(name)) throw new DuplicatePluginError(this.kind, name);
    const f = typeof nameOrPlugin === 'string' ? factory : noArgs(nameOrPlugin);
    if (f === undefined) throw new RangeError(`register ${this.kind} "${name}": a factory is needed`);
    this.factories.set(name, f);
  }

  build(name: string, args: unknown, h: PluginHandle): P {
    const f = this.factories.get(name);
    if (f === undefined) throw new UnknownPluginError(this.kind, name, this.names);
    const p = f(args, h);
    if (p.name !== name) throw new PluginArgsError(name, `its factory built a plugin named "${p.name}"`);
    return p;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  get names(): string[] {
    return [...this.factories.keys()];
  }
}

export class PluginRegistry {
  private readonly filters = new Table<FilterPlugin>('filter');
  private readonly scorers = new Table<ScorerPlugin>('scorer');
  private readonly postFilters = new Table<PostFilterPlugin>('post-filter');

  /** Registers a factory by name, or an argument-less plugin object under its own name. */
  registerFilter(plugin: FilterPlugin): this;
  registerFilter(name: string, factory: FilterFactory): this;
  registerFilter(p: string | FilterPlugin, factory?: FilterFactory): this {
    this.filters.add(p, factory);
    return this;
  }

  registerScorer(plugin: ScorerPlugin): this;
  registerScorer(name: string, factory: ScorerFactory): this;
  registerScorer(p: string | ScorerPlugin, factory?: ScorerFactory): this {
    this.scorers.add(p, factory);
    return this;
  }

  registerPostFilter(plugin: PostFilterPlugin): this;
  registerPostFilter(name: string, factory: PostFilterFactory): this;
  registerPostFilter(p: string | PostFilterPlugin, factory?: PostFilterFactory): this {
    this.postFilters.add(p, factory);
    return this;
  }

  /** Applies a group of registrations (e.g. the GPU plugins) and returns this registry. */
  registerWith(register: (r: this) => void): this {
    register(this);
    return this;
  }

  /** Builds a filter by name (UnknownPluginError / PluginArgsError on a bad name or args). */
  filter(name: string, args: unknown, h: PluginHandle): FilterPlugin {
    return this.filters.build(name, args, h);
  }

  scorer(name: string, args: unknown, h: PluginHandle): ScorerPlugin {
    return this.scorers.build(name, args, h);
  }

  postFilter(name: string, args: unknown, h: PluginHandle): PostFilterPlugin {
    return this.postFilters.build(name, args, h);
  }

  hasFilter(name: string): boolean {
    return this.filters.has(name);
  }

  hasScorer(name: string): boolean {
    return this.scorers.has(name);
  }

  hasPostFilter(name: string): boolean {
    return this.postFilters.has(name);
  }

  get filterNames(): string[] {
    return this.filters.names;
  }

  get scorerNames(): string[] {
    return this.scorers.names;
  }

  get postFilterNames(): string[] {
    return this.postFilters.names;
  }
}

/**
 * A registry holding the built-in plugins. Every plugin file is registered here, one line each:
 * this is where a new filter, scorer or post-filter is added.
 */
export function createDefaultRegistry(): PluginRegistry {
  return new PluginRegistry()
    .registerFilter(labelConstraintsFilter)
    .registerFilter(resourceFitFilter)
    .registerFilter(nodeStateFilter)
    .registerFilter(placementRulesFilter)
    .registerScorer(binpackScorer)
    .registerScorer(spreadScorer)
    .registerScorer(preferencesScorer)
    .registerPostFilter(PREEMPTION, preemptionPostFilter)
    .registerWith(registerGpuPlugins);
}

/** The built-ins. Shared by the default pipelines; register into your own registry (or this one at start-up). */
export const defaultRegistry: PluginRegistry = createDefaultRegistry();
