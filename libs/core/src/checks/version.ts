/** Coarse granularity (Omega): the node must be at exactly the version the scheduler decided on. */
import type { NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const VERSION_CHECK = 'version';

export function checkVersion(claim: Claim, node: NodeState | undefined, txn: TxnScope): ConflictReason | undefined {
  return txn.granularity === 'coarse' && node!.version !== claim.seenVersion ? ConflictReason.version : undefined;
}

export const versionCheck: ClaimCheck = { name: VERSION_CHECK, check: checkVersion };
