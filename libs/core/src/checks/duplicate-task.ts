/** Exactly once: a task already placed, or named twice in one transaction, is refused. */
import type { NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const DUPLICATE_TASK_CHECK = 'duplicate-task';

export function checkDuplicateTask(claim: Claim, _node: NodeState | undefined, txn: TxnScope): ConflictReason | undefined {
  return txn.cell.isTaskPlaced(claim.taskId) || txn.namedEarlier(claim.taskId) ? ConflictReason.duplicate_task : undefined;
}

export const duplicateTaskCheck: ClaimCheck = { name: DUPLICATE_TASK_CHECK, check: checkDuplicateTask };
