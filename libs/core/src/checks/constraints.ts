/** The node's labels still satisfy the task's constraints (labels may change after the decision). */
import { satisfiesAll } from '../constraints.ts';
import type { NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';

export const CONSTRAINTS_CHECK = 'constraints';

export function checkConstraints(claim: Claim, node: NodeState | undefined): ConflictReason | undefined {
  return satisfiesAll(node!.labels, claim.constraints) ? undefined : ConflictReason.constraint;
}

export const constraintsCheck: ClaimCheck = { name: CONSTRAINTS_CHECK, check: checkConstraints };
