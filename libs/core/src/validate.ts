/**
 * validateTxn: the committer's pure check of a transaction against the authoritative state.
 * One function of (state, txn, checks) → verdict, in the spirit of Nomad's evaluateNodePlan; the
 * rules themselves are the named checks of `./checks/` (DEFAULT_CLAIM_CHECKS).
 */
import type { CellState } from './cell.ts';
import { checkConstraints } from './checks/constraints.ts';
import { checkDuplicateTask } from './checks/duplicate-task.ts';
import { DEFAULT_CLAIM_CHECKS, DEFAULT_EVICTION_CHECKS, type ClaimCheck, type EvictionCheck } from './checks/index.ts';
import { checkNodeState } from './checks/node-state.ts';
import { checkResources } from './checks/resources.ts';
import { TxnScope } from './checks/scope.ts';
import { checkVersion } from './checks/version.ts';
import { checkWellFormed, isId } from './checks/well-formed.ts';
import type { NodeState } from './node.ts';
import { ConflictReason } from './reasons.ts';
import type { Granularity, Rejection, Transaction, TxnVerdict } from './txn.ts';

export { isWellFormedClaim } from './checks/well-formed.ts';

export interface ValidateOptions {
  readonly checks?: readonly ClaimCheck[];
  readonly evictionChecks?: readonly EvictionCheck[];
}

const EMPTY: readonly never[] = Object.freeze([]);

/**
 * A check list compiled once: each built-in check as a small code, so the loop calls its pure
 * function directly (monomorphic, inlinable) instead of through the list's objects; other checks
 * (code -1) are called through the list. Same checks, same order, same answers.
 */
interface CompiledChecks {
  readonly codes: Int8Array;
  /** The checks with an `accepted` hook (told of every accepted claim), in list order. */
  readonly acceptors: readonly ClaimCheck[];
}
const BUILT_INS: readonly ClaimCheck['check'][] = [checkWellFormed, checkDuplicateTask, checkNodeState, checkVersion, checkConstraints, checkResources];
const compiled = new WeakMap<readonly ClaimCheck[], CompiledChecks>();

function compile(checks: readonly ClaimCheck[]): CompiledChecks {
  let c = compiled.get(checks);
  if (c === undefined) {
    c = { codes: Int8Array.from(checks, (k) => BUILT_INS.indexOf(k.check)), acceptors: checks.filter((k) => k.accepted !== undefined) };
    compiled.set(checks, c);
  }
  return c;
}


/**
 * Decides which claims of `txn` still fit the current state. Every claim runs through `checks`
 * in order (the first reason wins); claims of one transaction are checked cumulatively (two
 * claims on one node must both fit). Never mutates `cell`.
 * - `fine`: the claim still fits (node ready, constraints, resources).
 * - `coarse`: additionally, the node's version equals the version the scheduler decided on.
 * Evictions are checked first; the valid ones free their room for the claims on their node.
 * An all-or-nothing transaction with any rejection is rejected whole (`gang_aborted` for the rest)
 * and evicts nothing.
 */
export function validateTxn(cell: CellState, txn: Transaction, granularity: Granularity, options: ValidateOptions = {}): TxnVerdict {
  const checks = options.checks ?? DEFAULT_CLAIM_CHECKS;
  const claims = txn.claims;
  const scope = new TxnScope(cell, txn, granularity);
  const evictions = txn.evictions !== undefined && txn.evictions.length > 0
    ? checkEvictions(cell, txn, scope, options.evictionChecks ?? DEFAULT_EVICTION_CHECKS)
    : undefined;
  // Claims are booked in the scope only when a later claim could see them.
  const cumulative = claims.length > 1;
  let accepted: number[] | undefined;
  let rejected: Rejection[] | undefined;
  // Nodes with an accepted claim, for deciding which evictions to apply.
  let claimedNodes: Set<string> | undefined;
  const { codes, acceptors } = compile(checks);

  for (let i = 0; i < claims.length; i++) {
    const claim = claims[i];
    const node: NodeState | undefined = typeof claim === 'object' && claim !== null ? cell.node(claim.nodeId) : undefined;
    let reason: ConflictReason | undefined;
    for (let k = 0; k < codes.length; k++) {
      switch (codes[k]) {
        case 0: reason = checkWellFormed(claim, node, scope); break;
        case 1: reason = checkDuplicateTask(claim, node, scope); break;
        case 2: reason = checkNodeState(claim, node); break;
        case 3: reason = checkVersion(claim, node, scope); break;
        case 4: reason = checkConstraints(claim, node); break;
        case 5: reason = checkResources(claim, node, scope); break;
        default: reason = checks[k].check(claim, node, scope);
      }
      if (reason !== undefined) break;
    }
    if (reason === undefined) {
      (accepted ??= []).push(i);
      if (cumulative) {
        scope.name(claim.taskId);
        scope.book(claim, node!);
      }
      for (let k = 0; k < acceptors.length; k++) acceptors[k].accepted!(claim, node!, scope);
      if (evictions !== undefined) (claimedNodes ??= new Set()).add(claim.nodeId);
    } else {
      (rejected ??= []).push({ index: i, reason });
      if (isId(claim?.taskId)) scope.name(claim.taskId);
    }
  }

  if (txn.kind === 'all-or-nothing' && rejected !== undefined && accepted !== undefined) {
    for (const i of accepted) rejected.push({ index: i, reason: ConflictReason.gang_aborted });
    rejected.sort((a, b) => a.index - b.index);
    accepted = undefined;
  }
  const verdict: TxnVerdict = { accepted: accepted ?? EMPTY, rejected: rejected ?? EMPTY };
  if (evictions === undefined) return verdict;
  return { ...verdict, ...decideEvictions(txn, evictions, accepted !== undefined, claimedNodes) };
}

interface EvictionDecision {
  /** Valid evictions' indices. */
  readonly valid: number[];
  readonly refused: Rejection[];
}

/** Runs the eviction checks and takes the valid victims off their nodes in the scope. */
function checkEvictions(cell: CellState, txn: Transaction, scope: TxnScope, checks: readonly EvictionCheck[]): EvictionDecision {
  const valid: number[] = [];
  const refused: Rejection[] = [];
  const byNode = new Map<NodeState, Set<string>>();
  const seen = new Set<string>();
  const list = txn.evictions!;
  for (let j = 0; j < list.length; j++) {
    const e = list[j];
    let reason: ConflictReason | undefined;
    if (typeof e !== 'object' || e === null || !isId(e.taskId) || !isId(e.nodeId)) reason = ConflictReason.invalid;
    else if (seen.has(e.taskId)) reason = ConflictReason.duplicate_task;
    else {
      const node = cell.node(e.nodeId);
      const a = cell.allocationOf(e.taskId);
      for (let k = 0; k < checks.length && reason === undefined; k++) reason = checks[k].check(e, a, node, scope);
      if (reason === undefined) {
        let set = byNode.get(node!);
        if (set === undefined) byNode.set(node!, (set = new Set()));
        set.add(e.taskId);
      }
    }
    if (reason === undefined) {
      valid.push(j);
      seen.add(e.taskId);
    } else {
      refused.push({ index: j, reason });
    }
  }
  for (const [node, ids] of byNode) scope.evict(node, ids);
  if (seen.size > 0) scope.evicted = seen;
  return { valid, refused };
}

/**
 * Which valid evictions to apply: those on a node where a claim was accepted, or where the
 * transaction claims nothing (an evict-only node, as Nomad's evict-only plans). None when the
 * transaction was rejected whole.
 */
function decideEvictions(txn: Transaction, d: EvictionDecision, anyAccepted: boolean, claimedNodes: ReadonlySet<string> | undefined): Pick<TxnVerdict, 'evictions' | 'refusedEvictions'> {
  const list = txn.evictions!;
  let targeted: Set<string> | undefined;
  for (const c of txn.claims) if (typeof c === 'object' && c !== null) (targeted ??= new Set()).add(c.nodeId);
  const apply: number[] = [];
  const rejectedWhole = txn.kind === 'all-or-nothing' && !anyAccepted && txn.claims.length > 0;
  if (!rejectedWhole) {
    for (const j of d.valid) {
      const n = list[j].nodeId;
      if (claimedNodes?.has(n) || !targeted?.has(n)) apply.push(j);
    }
  }
  return {
    evictions: apply,
    ...(d.refused.length === 0 ? {} : { refusedEvictions: d.refused }),
  };
}
