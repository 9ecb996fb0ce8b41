/**
 * A task that already ran to its end is refused as a duplicate: its allocation is gone, and
 * without this a redelivered job would run it a second time. The committer's owner says which
 * tasks are retired (cell-state: its job table).
 */
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';

export const RETIRED_TASK_CHECK = 'retired-task';

export function retiredTaskCheck(isRetired: (taskId: string) => boolean): ClaimCheck {
  return { name: RETIRED_TASK_CHECK, check: (claim: Claim) => (isRetired(claim.taskId) ? ConflictReason.duplicate_task : undefined) };
}
