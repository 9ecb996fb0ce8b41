/** Claims and transactions: what a scheduler proposes and what the committer answers. */
import type { Constraint } from './constraints.ts';
import type { NodeSnapshot } from './node.ts';
import type { ConflictReason } from './reasons.ts';
import type { ResourceVector } from './resources.ts';

/** "Task t on node n, taking resources r, decided on node version v". */
export interface Claim {
  readonly taskId: string;
  readonly jobId: string;
  readonly nodeId: string;
  readonly demand: ResourceVector;
  readonly seenVersion: number;
  /**
   * GPU device indexes on the node (DESIGN §12): `gpu: n` names n distinct devices, a share of one
   * GPU names one. Absent for a claim without GPUs (and from older schedulers: the committer then
   * books best-fit devices).
   */
  readonly devices?: readonly number[];
  /** Re-checked by the fine-grained validator: labels may have changed since the decision. */
  readonly constraints?: readonly Constraint[];
}

/** `incremental`: commit what fits. `all-or-nothing`: a gang, all claims or none. */
export type TxnKind = 'incremental' | 'all-or-nothing';
export const TXN_KINDS: readonly TxnKind[] = ['incremental', 'all-or-nothing'];

export interface Transaction {
  /** Idempotency key: replaying the same id returns the first outcome and changes nothing. */
  readonly id: string;
  readonly schedulerId: string;
  readonly kind: TxnKind;
  readonly claims: readonly Claim[];
}

/** Omega's two conflict-detection granularities. */
export type Granularity = 'fine' | 'coarse';
export const GRANULARITIES: readonly Granularity[] = ['fine', 'coarse'];

export interface Rejection {
  /** Index of the claim in the transaction. */
  readonly index: number;
  readonly reason: ConflictReason;
}

/** The pure decision on one transaction: claim indices accepted and rejected (in claim order). */
export interface TxnVerdict {
  readonly accepted: readonly number[];
  readonly rejected: readonly Rejection[];
}

export interface RejectedClaim {
  readonly taskId: string;
  readonly nodeId: string;
  readonly reason: ConflictReason;
}

/** What the committer answers: committed task ids, rejected claims with reasons, fresh node state. */
export interface TxnResult {
  readonly txnId: string;
  readonly committed: readonly string[];
  readonly rejected: readonly RejectedClaim[];
  /** Fresh state of every node the transaction touched (committed or rejected), for refreshing views. */
  readonly nodes: readonly NodeSnapshot[];
  /** Position of the commit (log sequence or logical time); equal for all txns of one batch. */
  readonly seq: number;
  /** True when this result was returned from the idempotency table, not decided now. */
  readonly replayed?: boolean;
}
