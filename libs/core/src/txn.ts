/** Claims and transactions: what a scheduler proposes and what the committer answers. */
import type { Constraint } from './constraints.ts';
import type { NodeSnapshot } from './node.ts';
import type { PlacementRules } from './placement-rules.ts';
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
  /** The job's leaf queue path (DESIGN §10); absent = `default`. */
  readonly queue?: string;
  /** A preemptible task does not count against its queue's quota. */
  readonly preemptible?: boolean;
  /** The task group's placement rules (DESIGN §12), re-checked on the cell by `placement-rules`. */
  readonly rules?: PlacementRules;
}

/** `incremental`: commit what fits. `all-or-nothing`: a gang, all claims or none. */
export type TxnKind = 'incremental' | 'all-or-nothing';
export const TXN_KINDS: readonly TxnKind[] = ['incremental', 'all-or-nothing'];

/**
 * "Stop task t, which sits on node n, to make room": Nomad's plan `NodeUpdate`. Evictions and
 * the claims they make room for travel in one transaction; the committer applies an eviction only
 * when the victim is still there and a claim on its node is accepted (or the transaction claims
 * nothing on that node).
 */
export interface Eviction {
  readonly taskId: string;
  readonly nodeId: string;
}

export interface Transaction {
  /** Idempotency key: replaying the same id returns the first outcome and changes nothing. */
  readonly id: string;
  readonly schedulerId: string;
  readonly kind: TxnKind;
  readonly claims: readonly Claim[];
  /** Tasks to stop first; checked as "existing − evictions + claims fits" per node. */
  readonly evictions?: readonly Eviction[];
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
  /** Indices of the evictions to apply (before the accepted claims); absent when none. */
  readonly evictions?: readonly number[];
  /** Evictions refused by an eviction check (they free nothing); absent when none. */
  readonly refusedEvictions?: readonly Rejection[];
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
  /** Task ids evicted by this transaction (released before its claims were booked); absent when none. */
  readonly evicted?: readonly string[];
}
