/**
 * An in-memory cell for tests that need no NATS (Nomad's scheduler Harness): a real core
 * CellState and Committer, a record of every transaction proposed and the answer given, and a
 * way to refuse proposals on purpose (Nomad's RejectPlan) to drive the stale-view and retry paths.
 */
import {
  CellState, Committer, ResourceSpace, type ClaimCheck, type Granularity, type NodeRegistration, type Transaction, type TxnResult,
} from '@tessera/core';

export interface MemoryCellOptions {
  readonly partitions?: number;
  readonly granularity?: Granularity;
  /** The committer's claim checks (default: core's). */
  readonly checks?: readonly ClaimCheck[];
}

export interface RecordedTxn {
  readonly txn: Transaction;
  readonly result: TxnResult;
  /** True when the harness refused it on purpose (`refuseNext`). */
  readonly forced: boolean;
}

export class MemoryCell {
  readonly space: ResourceSpace;
  readonly cell: CellState;
  readonly committer: Committer;
  /** Every transaction proposed, in order, with its answer. */
  readonly txns: RecordedTxn[] = [];
  private seq = 0;
  private refusals: { count: number; reason: string }[] = [];

  constructor(space: ResourceSpace, options: MemoryCellOptions = {}) {
    this.space = space;
    this.cell = new CellState(space, options.partitions ?? 1);
    this.committer = new Committer(this.cell, { granularity: options.granularity ?? 'fine', ...(options.checks === undefined ? {} : { checks: options.checks }) });
  }

  /** Registers nodes (or re-registers them). */
  addNodes(nodes: readonly NodeRegistration[]): this {
    for (const n of nodes) this.cell.upsertNode(n);
    return this;
  }

  /** The next `count` proposals are refused whole with `reason` (default `version`), state unchanged. */
  refuseNext(count: number, reason = 'version'): this {
    this.refusals.push({ count, reason });
    return this;
  }

  /** Decides one transaction (or refuses it, see refuseNext) and records it. */
  commit(txn: Transaction): TxnResult {
    const seq = ++this.seq;
    const r = this.refusals[0];
    if (r !== undefined) {
      if (--r.count <= 0) this.refusals.shift();
      const result: TxnResult = {
        txnId: txn.id, committed: [], nodes: [], seq,
        rejected: txn.claims.map((c) => ({ taskId: c.taskId, nodeId: c.nodeId, reason: r.reason as TxnResult['rejected'][number]['reason'] })),
      };
      this.txns.push({ txn, result, forced: true });
      return result;
    }
    const result = this.committer.commit(txn, seq);
    this.txns.push({ txn, result, forced: false });
    return result;
  }

  /** Group commit, as cell-state does: every transaction at one position. */
  commitBatch(txns: readonly Transaction[]): TxnResult[] {
    return txns.map((t) => this.commit(t));
  }

  /** Ends a task (its resources are released). */
  endTask(taskId: string): boolean {
    return this.cell.release(taskId) !== undefined;
  }

  /** Task ids committed so far (in commit order). */
  committedTasks(): string[] {
    return this.txns.flatMap((r) => [...r.result.committed]);
  }
}
