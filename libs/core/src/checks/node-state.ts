/** Only a known, `ready` node takes a claim (Nomad: "node is not ready for placements"). */
import type { NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';

export const NODE_STATE_CHECK = 'node-state';

export function checkNodeState(_claim: Claim, node: NodeState | undefined): ConflictReason | undefined {
  return node === undefined || node.condition !== 'ready' ? ConflictReason.node_gone : undefined;
}

export const nodeStateCheck: ClaimCheck = { name: NODE_STATE_CHECK, check: checkNodeState };
