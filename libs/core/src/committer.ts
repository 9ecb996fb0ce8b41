/**
 * The committer's decision core: idempotency, validation and application of a batch of
 * transactions, in arrival order. The shell around it (cell-state service, simulator, test
 * harness) adds durability and transport; the decisions are all made here.
 */
import { snapshotOf, type CellState } from './cell.ts';
import type { NodeSnapshot, NodeState } from './node.ts';
import { DEFAULT_CLAIM_CHECKS, DEFAULT_EVICTION_CHECKS, type ClaimCheck, type EvictionCheck } from './checks/index.ts';
import type { Claim, Granularity, RejectedClaim, Transaction, TxnResult } from './txn.ts';
import { validateTxn, type ValidateOptions } from './validate.ts';

export interface CommitterOptions {
  readonly granularity: Granularity;
  /** Outcomes remembered for idempotent replay (oldest forgotten first). Default 200,000. */
  readonly dedupLimit?: number;
  /** The hard rules every claim must pass, in order (default DEFAULT_CLAIM_CHECKS). */
  readonly checks?: readonly ClaimCheck[];
  /** The rules every eviction must pass (default DEFAULT_EVICTION_CHECKS). */
  readonly evictionChecks?: readonly EvictionCheck[];
}

export class Committer {
  readonly cell: CellState;
  granularity: Granularity;
  private readonly dedupLimit: number;
  private readonly outcomes = new Map<string, TxnResult>();
  private readonly validation: ValidateOptions;

  constructor(cell: CellState, options: CommitterOptions) {
    this.cell = cell;
    this.granularity = options.granularity;
    this.dedupLimit = options.dedupLimit ?? 200_000;
    this.validation = { checks: options.checks ?? DEFAULT_CLAIM_CHECKS, evictionChecks: options.evictionChecks ?? DEFAULT_EVICTION_CHECKS };
  }

  /** The claim checks this committer runs, in order. */
  get checks(): readonly ClaimCheck[] {
    return this.validation.checks!;
  }

  /** The first outcome of a transaction id, if still remembered. */
  outcomeOf(txnId: string): TxnResult | undefined {
    return this.outcomes.get(txnId);
  }

  /** Records an outcome (used when rebuilding from the commit log). */
  remember(result: TxnResult): void {
    if (this.outcomes.has(result.txnId)) return;
    this.outcomes.set(result.txnId, result);
    if (this.outcomes.size > this.dedupLimit) {
      const oldest = this.outcomes.keys().next().value as string;
      this.outcomes.delete(oldest);
    }
  }

  /** Every remembered outcome, oldest first (for snapshots; `remember` them in this order to restore). */
  rememberedOutcomes(): IterableIterator<TxnResult> {
    return this.outcomes.values();
  }

  /**
   * Drops a remembered outcome. For a shell that decides a batch before it is durable: when the
   * append fails, the batch's outcomes must not be answered to replays. Returns whether it was known.
   */
  forget(txnId: string): boolean {
    return this.outcomes.delete(txnId);
  }

  /** Validates and applies one transaction at commit position `seq`. */
  commit(txn: Transaction, seq: number): TxnResult {
    const prior = this.outcomes.get(txn.id);
    if (prior !== undefined) return { ...prior, replayed: true };

    const verdict = validateTxn(this.cell, txn, this.granularity, this.validation);
    let evicted: string[] | undefined;
    if (verdict.evictions !== undefined && verdict.evictions.length > 0) {
      evicted = [];
      for (const j of verdict.evictions) {
        const e = txn.evictions![j];
        if (this.cell.release(e.taskId) !== undefined) evicted.push(e.taskId);
      }
    }
    const committedClaims: Claim[] = [];
    for (const i of verdict.accepted) committedClaims.push(txn.claims[i]);
    this.cell.applyClaims(committedClaims, seq);

    const committed = committedClaims.map((c) => c.taskId);
    // `?.`: a malformed (even null) claim is rejected as invalid; answering must not throw on it.
    const rejected: RejectedClaim[] = verdict.rejected.map((r) => ({
      taskId: txn.claims[r.index]?.taskId ?? '',
      nodeId: txn.claims[r.index]?.nodeId ?? '',
      reason: r.reason,
    }));
    const base: TxnResult = { txnId: txn.id, committed, rejected, nodes: this.touchedNodes(txn), seq };
    const result: TxnResult = evicted === undefined ? base : { ...base, evicted };
    this.remember(result);
    return result;
  }

  /** Group commit: decides every transaction of the batch in order, all at position `seq`. */
  commitBatch(txns: readonly Transaction[], seq: number): TxnResult[] {
    return txns.map((t) => this.commit(t, seq));
  }

  private touchedNodes(txn: Transaction): NodeSnapshot[] {
    const seen = new Set<NodeState>();
    const out: NodeSnapshot[] = [];
    const add = (nodeId: string | undefined) => {
      const n = this.cell.node(nodeId as string);
      if (n !== undefined && !seen.has(n)) {
        seen.add(n);
        out.push(snapshotOf(n));
      }
    };
    for (const c of txn.claims) add(c?.nodeId);
    if (txn.evictions !== undefined) for (const e of txn.evictions) add(e?.nodeId);
    return out;
  }
}
