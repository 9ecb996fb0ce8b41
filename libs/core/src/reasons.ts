/**
 * Constant reason strings. Operators see these (metrics labels, `jobs --json` reasons), so they
 * are stable identifiers, not prose.
 */

/** Why the committer refused a claim. The first four are the metric label values of §7. */
export const ConflictReason = {
  /** The node no longer has room for the claim. */
  resources: 'resources',
  /** Coarse granularity: the node changed since the scheduler saw it. */
  version: 'version',
  /** The node's labels no longer satisfy the task's constraints. */
  constraint: 'constraint',
  /** The node is unknown, lost, or draining. */
  node_gone: 'node_gone',
  /** The task is already placed (exactly-once), or appears twice in the transaction. */
  duplicate_task: 'duplicate_task',
  /** All-or-nothing transaction: another claim failed, so this one was not committed. */
  gang_aborted: 'gang_aborted',
  /** The claim itself is malformed (negative or NaN demand, empty ids). */
  invalid: 'invalid',
  /** The claim would take its queue (or an ancestor) above its max quota (DESIGN §10). */
  quota: 'quota',
  /** An eviction names a task that is no longer on that node. */
  victim_gone: 'victim_gone',
  /** An eviction the preemption rules do not allow (DESIGN §11: eligibility, guaranteed share, no cycles). */
  preemption_policy: 'preemption_policy',
  /** The claim would break its task group's spread / distinct / affinity / anti_affinity rule (DESIGN §12). */
  placement_rule: 'placement_rule',
} as const;
export type ConflictReason = (typeof ConflictReason)[keyof typeof ConflictReason];

/** Why a filter refused a node for a task (placement side). */
export const FilterReason = {
  resources_now: 'insufficient resources now',
  resources_ever: 'larger than any node',
  node_not_ready: 'node not ready',
  constraint: 'constraint not satisfied',
  /** A spread / distinct / affinity / anti_affinity rule of the task group (can hold later). */
  placement_rule: 'placement rule',
} as const;
export type FilterReason = (typeof FilterReason)[keyof typeof FilterReason];
