/**
 * The committer's hard rules as a list of named claim checks (Nomad's evaluateNodePlan split into
 * its pieces, kube-scheduler's Filter plugins on the committer's side). `validateTxn` runs the
 * list in order for every claim and stops at the first reason; a new hard rule is a new file with
 * one `ClaimCheck` and its place in the list, not an edit of `validateTxn`.
 */
import type { Allocation, NodeState } from '../node.ts';
import type { ConflictReason } from '../reasons.ts';
import type { Claim, Eviction } from '../txn.ts';
import type { TxnScope } from './scope.ts';

export interface ClaimCheck {
  /** A stable name (configuration, docs, tests), e.g. `resources`. */
  readonly name: string;
  /**
   * Why `claim` must be refused, or undefined when this rule lets it through. `node` is the
   * authoritative node the claim names (undefined when unknown). Earlier checks of the list
   * passed: every check after `well-formed` may rely on a well-formed claim.
   */
  check(claim: Claim, node: NodeState | undefined, txn: TxnScope): ConflictReason | undefined;
  /**
   * Books an accepted claim into this check's per-transaction state (`txn.stateOf(this, …)`), so
   * later claims of the same transaction are checked cumulatively (e.g. quota usage).
   */
  accepted?(claim: Claim, node: NodeState, txn: TxnScope): void;
}

/**
 * A rule on one eviction of a transaction (DESIGN §11: the victim is still where the scheduler
 * saw it, and the policy allows evicting it). A refused eviction frees nothing.
 */
export interface EvictionCheck {
  readonly name: string;
  /** `allocation` is the victim's current booking, undefined when the task is not placed. */
  check(eviction: Eviction, allocation: Allocation | undefined, node: NodeState | undefined, txn: TxnScope): ConflictReason | undefined;
}
