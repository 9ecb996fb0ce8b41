/**
 * The two kinds of placement plugin, in the style of Nomad's feasibility checkers / rankers and
 * kube-scheduler's Filter / Score plugins: a name, a pure function, nothing else. New policies
 * (quotas, DRF, priorities, affinity, GPU sharing) arrive as new files implementing these.
 */
import type { Labels, NodeCondition, ResourceVector, TaskRequest } from '@tessera/core';

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
  readonly capacity: ResourceVector;
  readonly allocated: ResourceVector;
  readonly reserved?: ResourceVector | undefined;
  readonly labels?: Labels;
}

export interface FilterPlugin {
  readonly name: string;
  /**
   * The reasons this filter returns that no retry can fix (the node can never take the task),
   * as opposed to "not now". When every node is refused for such a reason the placement is not
   * retryable (kube-scheduler's UnschedulableAndUnresolvable).
   */
  readonly unresolvable: readonly string[];
  /** undefined when the node can take the task; otherwise a constant reason string. */
  filter(node: CandidateNode, task: TaskRequest): string | undefined;
}

export interface ScorerPlugin {
  readonly name: string;
  /** False when the scorer has nothing to say about this task; it is then left out of the mean. */
  appliesTo(task: TaskRequest): boolean;
  /** A score in [0, 1], higher is better. Called only on nodes every filter accepted. */
  score(node: ScoredNode, task: TaskRequest): number;
}
