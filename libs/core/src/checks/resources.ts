/**
 * The claim fits the node: existing − evictions + the transaction's earlier claims + this claim
 * ≤ capacity on every resource (Nomad's evaluateNodePlan: remove the planned evictions, add the
 * planned allocations, AllocsFit).
 */
import type { NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import { fitsWith } from '../resources.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const RESOURCES_CHECK = 'resources';

export function checkResources(claim: Claim, node: NodeState | undefined, txn: TxnScope): ConflictReason | undefined {
  return fitsWith(node!.capacity, txn.allocatedOn(node!), undefined, claim.demand) ? undefined : ConflictReason.resources;
}

export const resourcesCheck: ClaimCheck = { name: RESOURCES_CHECK, check: checkResources };
