/** A claim is well-formed: non-empty ids, a demand of the cell's dimension, finite and ≥ 0. */
import type { NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const WELL_FORMED_CHECK = 'well-formed';

export function isId(x: unknown): x is string {
  return typeof x === 'string' && x !== '';
}

/** Total over any value (a claim may come straight off the wire), so it never throws. */
export function isWellFormedClaim(claim: Claim, dimensions: number): boolean {
  if (typeof claim !== 'object' || claim === null) return false;
  if (!isId(claim.taskId) || !isId(claim.nodeId) || !isId(claim.jobId)) return false;
  const d = claim.demand;
  if (!(d instanceof Float64Array) || d.length !== dimensions) return false;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!(x >= 0) || x === Infinity) return false; // also false for NaN
  }
  return Number.isInteger(claim.seenVersion) && claim.seenVersion >= 0;
}

export function checkWellFormed(claim: Claim, _node: NodeState | undefined, txn: TxnScope): ConflictReason | undefined {
  return isWellFormedClaim(claim, txn.dims) ? undefined : ConflictReason.invalid;
}

export const wellFormedCheck: ClaimCheck = { name: WELL_FORMED_CHECK, check: checkWellFormed };
