/**
 * The per-call placement context (kube-scheduler's CycleState; Nomad's SetJob/SetTaskGroup): the
 * job being placed, the view, the tasks of the call, each plugin's prepared state, and the
 * scratch one decision needs. One is created per placement call and never shared, so a nested
 * what-if placement (a preemption post-filter placing on a copy) cannot clobber the outer one.
 */
import type { QuotaUsage, SchedulerView, TaskRequest, ViewNode } from '@tessera/core';
import type { Pipeline } from './pipeline.ts';
import type { FilterPlugin, PluginHooks, ScoredNode } from './plugin.ts';
import type { Rng } from './rng.ts';

function clamp01(x: number): number {
  return x > 0 ? (x < 1 ? x : 1) : 0; // also maps NaN to 0
}

/** The job a placement call belongs to, as rules need it (absent for a bare task). */
export interface PlacementJob {
  readonly id: string;
  readonly queue?: string;
  readonly priority?: number;
  readonly gang?: boolean;
  readonly preemptible?: boolean;
  /** Its tasks committed in earlier rounds: task id → node id ('' when unknown). Placement rules read it. */
  readonly placed?: ReadonlyMap<string, string>;
}

export class PlacementContext {
  readonly view: SchedulerView;
  readonly pipeline: Pipeline;
  readonly job: PlacementJob | undefined;
  /** Queue usage and guarantees as the replica last heard them (reclaim reads it); undefined: no reclaim. */
  readonly quota: QuotaUsage | undefined;
  /** The call's clock (ms, PlaceOptions.now): rules with a time (preemption's min runtime) read it. */
  now = 0;
  /**
   * The call's visit order (PlaceOptions.rng, .homePartitions): plugins that walk the view
   * themselves (preemption's candidates) start where placement would, so replicas spread out.
   */
  rng: Rng | undefined = undefined;
  homePartitions: readonly boolean[] | undefined = undefined;
  /** Every task of this call, in order. */
  readonly tasks: readonly TaskRequest[];
  private readonly states = new Map<string, unknown>();

  // ---- per-decision scratch (reset by beginTask) ----
  /** The pipeline's filters that apply to the current task. */
  filters: readonly FilterPlugin[];
  /** Rejections by reason since beginTask. */
  readonly counts = new Map<string, number>();
  /** Each scorer's weight for the current task (0: does not apply). */
  readonly active: Float64Array;
  activeTotal = 0;
  activeCount = 0;
  single = -1;
  bestNode: ViewNode | undefined = undefined;
  bestScore = -1;
  found = 0;

  constructor(view: SchedulerView, pipeline: Pipeline, tasks: readonly TaskRequest[], job?: PlacementJob, quota?: QuotaUsage) {
    this.view = view;
    this.pipeline = pipeline;
    this.tasks = tasks;
    this.job = job;
    this.quota = quota;
    this.active = new Float64Array(pipeline.scorers.length);
    this.filters = pipeline.filters;
    for (const p of pipeline.hooked) {
      if (p.prepare !== undefined) this.states.set(p.name, p.prepare(this));
    }
  }

  /** The state a plugin's `prepare` returned for this call (undefined when it has none). */
  state<T>(plugin: string): T {
    return this.states.get(plugin) as T;
  }

  /** Starts a decision for one task: clears the rejection counts, weighs the applicable scorers. */
  beginTask(task: TaskRequest): void {
    this.counts.clear();
    this.filters = this.pipeline.filtersFor(task);
    const { scorers, weights } = this.pipeline;
    let total = 0;
    let count = 0;
    let single = -1;
    for (let i = 0; i < scorers.length; i++) {
      const w = weights[i] > 0 && scorers[i].appliesTo(task, this) ? weights[i] : 0;
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
    this.bestNode = undefined;
    this.bestScore = -1;
    this.found = 0;
  }

  /** Weighted mean of the applicable scorers, in [0, 1]; 0 when none applies. Call after beginTask. */
  score(node: ScoredNode, task: TaskRequest): number {
    const scorers = this.pipeline.scorers;
    if (this.single >= 0) return clamp01(scorers[this.single].score(node, task, this));
    if (this.activeCount === 0) return 0;
    let sum = 0;
    for (let i = 0; i < scorers.length; i++) {
      const w = this.active[i];
      if (w > 0) sum += w * clamp01(scorers[i].score(node, task, this));
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
    for (const r of this.counts.keys()) if (!this.pipeline.isUnresolvable(r)) return true;
    return false;
  }

  /** Tells the plugins with a `reserve` hook that `task` was booked on `node`. */
  reserve(task: TaskRequest, node: ViewNode): void {
    const hooked: readonly PluginHooks[] = this.pipeline.hooked;
    for (let i = 0; i < hooked.length; i++) hooked[i].reserve?.(this, task, node);
  }
}
