/**
 * The kinds of placement plugin, in the style of Nomad's feasibility checkers / rankers and
 * kube-scheduler's PreFilter / Filter / Score / PostFilter plugins: a name, pure functions,
 * nothing else. A plugin is built by a factory from its configuration (`args`) and the cell's
 * resource space, registered by name (registry.ts); new policies arrive as new files.
 */
import type { Eviction, Labels, NodeCondition, ResourceSpace, ResourceVector, TaskRequest, ViewNode } from '@tessera/core';
import type { PlacementContext } from './context.ts';

/** What a filter reads of a node. `ViewNode` satisfies it; so does a plain test object. */
export interface CandidateNode {
  readonly id?: string;
  readonly capacity: ResourceVector;
  readonly allocated: ResourceVector;
  /** In-flight bookings of this scheduler, not yet committed (undefined when none). */
  readonly reserved?: ResourceVector | undefined;
  readonly labels: Labels;
  readonly condition: NodeCondition;
}

/** What a scorer reads of a node: labels are optional so resource scorers work on bare vectors. */
export interface ScoredNode {
  readonly id?: string;
  readonly capacity: ResourceVector;
  readonly allocated: ResourceVector;
  readonly reserved?: ResourceVector | undefined;
  readonly labels?: Labels;
}

/**
 * Optional per-call hooks any plugin may have (kube-scheduler's PreFilter/Reserve on CycleState):
 * - `prepare(ctx)` runs once per placement call, before any task is placed; what it returns is
 *   the plugin's state for the call, read back with `ctx.state(name)`;
 * - `reserve(ctx, task, node)` runs after a task of the call was booked on `node`, so rules that
 *   count a job's tasks per node or zone see the tasks placed earlier in the same call.
 */
export interface PluginHooks {
  prepare?(ctx: PlacementContext): unknown;
  reserve?(ctx: PlacementContext, task: TaskRequest, node: ViewNode): void;
}

export interface FilterPlugin extends PluginHooks {
  readonly name: string;
  /**
   * The reasons this filter returns that no retry can fix (the node can never take the task),
   * as opposed to "not now". When every node is refused for such a reason the placement is not
   * retryable (kube-scheduler's UnschedulableAndUnresolvable).
   */
  readonly unresolvable: readonly string[];
  /** undefined when the node can take the task; otherwise a constant reason string. */
  filter(node: CandidateNode, task: TaskRequest, ctx: PlacementContext): string | undefined;
  /**
   * False when the filter has nothing to say about `task` (it is then not called for any node of
   * the task's decision). Absent: it always applies. Keeps the per-node loop short for a rule most
   * tasks do not carry.
   */
  appliesTo?(task: TaskRequest): boolean;
}

export interface ScorerPlugin extends PluginHooks {
  readonly name: string;
  /** False when the scorer has nothing to say about this task; it is then left out of the mean. */
  appliesTo(task: TaskRequest, ctx: PlacementContext): boolean;
  /** A score in [0, 1], higher is better. Called only on nodes every filter accepted. */
  score(node: ScoredNode, task: TaskRequest, ctx: PlacementContext): number;
  /**
   * The GPU devices the task would take on `node` under this scorer's policy (FGD picks the device
   * that least fragments; the baselines best fit); undefined when they cannot take it. Optional:
   * without a scorer that chooses, a task gets best-fit devices (see gpu/devices-for.ts).
   */
  devices?(node: ScoredNode, task: TaskRequest, ctx: PlacementContext): readonly number[] | undefined;
}

/** What a post-filter found: a node the task can have once `evictions` are carried out. */
export interface PostFilterResult {
  readonly node: ViewNode;
  /** Tasks to stop on `node` (they go in the same transaction as the task's claim). */
  readonly evictions: readonly Eviction[];
}

/** The placement failure a post-filter is asked about (always retryable). */
export interface PostFilterFailure {
  readonly reasons: Readonly<Record<string, number>>;
}

/**
 * kube-scheduler's PostFilter: runs only when a task fit no node for a reason waiting could fix
 * (never for unresolvable failures), e.g. preemption. The first post-filter that returns a
 * result wins; the placement is then `ok` with its evictions.
 */
export interface PostFilterPlugin extends PluginHooks {
  readonly name: string;
  postFilter(task: TaskRequest, failure: PostFilterFailure, ctx: PlacementContext): PostFilterResult | undefined;
}

/** What a factory gets besides its args (kube-scheduler's framework handle). */
export interface PluginHandle {
  readonly space: ResourceSpace;
}

export type FilterFactory = (args: unknown, h: PluginHandle) => FilterPlugin;
export type ScorerFactory = (args: unknown, h: PluginHandle) => ScorerPlugin;
export type PostFilterFactory = (args: unknown, h: PluginHandle) => PostFilterPlugin;
