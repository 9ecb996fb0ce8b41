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

/**
 * A claim is well-formed: ids are non-empty strings, demand of the cell's dimension, finite and
 * ≥ 0. Total over any value (a claim may come straight off the wire), so it never throws.
 */
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
  const r = checkNodeFor(node, claim, granularity);
  if (r !== undefined) return r;
  if (!fitsWith(node!.capacity, node!.allocated, pending, claim.demand)) return ConflictReason.resources;
  return undefined;
}

/** Every check of {@link checkClaim} but resources. */
function checkNodeFor(node: NodeState | undefined, claim: Claim, granularity: Granularity): ConflictReason | undefined {
  if (node === undefined || node.condition !== 'ready') return ConflictReason.node_gone;
  if (granularity === 'coarse' && node.version !== claim.seenVersion) return ConflictReason.version;
  if (!satisfiesAll(node.labels, claim.constraints)) return ConflictReason.constraint;
  return undefined;
}

function isId(x: unknown): x is string {
  return typeof x === 'string' && x !== '';
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
  // Per node touched by an earlier accepted claim of this transaction: its allocation plus those
  // claims' demands, summed in claim order, i.e. exactly the floats applyClaims will produce.
  // (Summing the bookings apart and adding them last rounds differently and can let a fractional
  // claim through that then over-commits the node by an ulp.) Only built when a txn has >1 claim.
  let booked: Map<NodeState, Float64Array> | undefined;
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
      reason = checkNodeFor(node, claim, granularity);
      if (reason === undefined && !fitsWith(node!.capacity, booked?.get(node!) ?? node!.allocated, undefined, claim.demand)) {
        reason = ConflictReason.resources;
      }
    }
    if (reason === undefined) {
      (accepted ??= []).push(i);
      if (claims.length > 1) {
        (seenTasks ??= new Set()).add(claim.taskId);
        booked ??= new Map();
        let b = booked.get(node!);
        if (b === undefined) booked.set(node!, (b = Float64Array.from(node!.allocated)));
        addInto(b, claim.demand);
      }
    } else {
      (rejected ??= []).push({ index: i, reason });
      if (isId(claim?.taskId)) (seenTasks ??= new Set()).add(claim.taskId);
    }
  }

  if (txn.kind === 'all-or-nothing' && rejected !== undefined && accepted !== undefined) {
    for (const i of accepted) rejected.push({ index: i, reason: ConflictReason.gang_aborted });
    rejected.sort((a, b) => a.index - b.index);
    accepted = undefined;
  }
  return { accepted: accepted ?? EMPTY, rejected: rejected ?? EMPTY };
}
