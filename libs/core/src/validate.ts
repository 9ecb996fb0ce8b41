/**
 * validateTxn: the committer's pure check of a transaction against the authoritative state.
 * One function of (state, txn) → verdict, in the spirit of Nomad's evaluateNodePlan.
 */
import type { CellState } from './cell.ts';
import { satisfiesAll } from './constraints.ts';
import type { NodeState } from './node.ts';
import { ConflictReason } from './reasons.ts';
import { addInto, fitsWith } from './resources.ts';
import type { Claim, Granularity, Rejection, Transaction, TxnVerdict } from './txn.ts';

/** A claim is well-formed: ids present, demand of the cell's dimension, finite and ≥ 0. */
export function isWellFormedClaim(claim: Claim, dimensions: number): boolean {
  if (!claim.taskId || !claim.nodeId || !claim.jobId) return false;
  const d = claim.demand;
  if (!(d instanceof Float64Array) || d.length !== dimensions) return false;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!(x >= 0) || x === Infinity) return false; // also false for NaN
  }
  return Number.isInteger(claim.seenVersion) && claim.seenVersion >= 0;
}

/**
 * Checks one claim against a node, given what earlier claims of the same transaction already
 * booked on it (`pending`). Returns undefined when it fits.
 */
export function checkClaim(
  node: NodeState | undefined,
  claim: Claim,
  granularity: Granularity,
  pending: Float64Array | undefined,
): ConflictReason | undefined {
  if (node === undefined || node.condition !== 'ready') return ConflictReason.node_gone;
  if (granularity === 'coarse' && node.version !== claim.seenVersion) return ConflictReason.version;
  if (!satisfiesAll(node.labels, claim.constraints)) return ConflictReason.constraint;
  if (!fitsWith(node.capacity, node.allocated, pending, claim.demand)) return ConflictReason.resources;
  return undefined;
}

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * Decides which claims of `txn` still fit the current state. Claims of one transaction are
 * checked cumulatively (two claims on one node must both fit). Never mutates `cell`.
 * - `fine`: the claim still fits (node ready, constraints, resources).
 * - `coarse`: additionally, the node's version equals the version the scheduler decided on.
 * An all-or-nothing transaction with any rejection is rejected whole (`gang_aborted` for the rest).
 */
export function validateTxn(cell: CellState, txn: Transaction, granularity: Granularity): TxnVerdict {
  const claims = txn.claims;
  const dims = cell.space.size;
  let accepted: number[] | undefined;
  let rejected: Rejection[] | undefined;
  // Bookings by earlier claims of this transaction, per node; only built when a txn has >1 claim.
  let pending: Map<NodeState, Float64Array> | undefined;
  let seenTasks: Set<string> | undefined;

  for (let i = 0; i < claims.length; i++) {
    const claim = claims[i];
    let reason: ConflictReason | undefined;
    let node: NodeState | undefined;
    if (!isWellFormedClaim(claim, dims)) {
      reason = ConflictReason.invalid;
    } else if (cell.isTaskPlaced(claim.taskId) || (seenTasks !== undefined && seenTasks.has(claim.taskId))) {
      reason = ConflictReason.duplicate_task;
    } else {
      node = cell.node(claim.nodeId);
      reason = checkClaim(node, claim, granularity, pending?.get(node!));
    }
    if (reason === undefined) {
      (accepted ??= []).push(i);
      if (claims.length > 1) {
        (seenTasks ??= new Set()).add(claim.taskId);
        pending ??= new Map();
        let p = pending.get(node!);
        if (p === undefined) pending.set(node!, (p = new Float64Array(dims)));
        addInto(p, claim.demand);
      }
    } else {
      (rejected ??= []).push({ index: i, reason });
      if (claim.taskId) (seenTasks ??= new Set()).add(claim.taskId);
    }
  }

  if (txn.kind === 'all-or-nothing' && rejected !== undefined && accepted !== undefined) {
    for (const i of accepted) rejected.push({ index: i, reason: ConflictReason.gang_aborted });
    rejected.sort((a, b) => a.index - b.index);
    accepted = undefined;
  }
  return { accepted: accepted ?? EMPTY, rejected: rejected ?? EMPTY };
}
