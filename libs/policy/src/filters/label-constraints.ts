/**
 * Label constraints (`in`, `not_in`, `exists`, `not_exists`), decided by core's `satisfiesAll`,
 * the same function the committer's fine-grained check uses, so placement and validation never
 * disagree. A node whose labels do not match is treated as never able to take the task.
 */
import { FilterReason, satisfiesAll, type TaskRequest } from '@tessera/core';
import type { CandidateNode, FilterPlugin } from '../plugin.ts';

export const LABEL_CONSTRAINTS = 'label-constraints';

export function labelConstraints(node: CandidateNode, task: TaskRequest): FilterReason | undefined {
  return satisfiesAll(node.labels, task.constraints) ? undefined : FilterReason.constraint;
}

export const labelConstraintsFilter: FilterPlugin = {
  name: LABEL_CONSTRAINTS,
  unresolvable: [FilterReason.constraint],
  filter: labelConstraints,
};
