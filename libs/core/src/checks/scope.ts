/**
 * What the claim checks of one transaction share: the state the transaction's earlier accepted
 * claims and its evictions leave each node in, the task ids it already named, and per-check
 * scratch. One per `validateTxn` call, never shared, so a nested validation cannot clobber it.
 */
import type { CellState } from '../cell.ts';
import type { NodeState } from '../node.ts';
import { addInto, type ResourceVector } from '../resources.ts';
import type { Claim, Granularity, Transaction } from '../txn.ts';

export class TxnScope {
  readonly cell: CellState;
  readonly txn: Transaction;
  readonly granularity: Granularity;
  /** The cell's resource dimensions. */
  readonly dims: number;
  /**
   * Per node touched by an earlier accepted claim or a valid eviction of this transaction: its
   * allocation after the evictions plus those claims' demands, summed in booking order, i.e.
   * exactly the floats the committer's release + applyClaims will produce. (Summing apart and
   * adding last rounds differently and can let a fractional claim over-commit a node by an ulp.)
   */
  private booked: Map<NodeState, Float64Array> | undefined;
  private named: Set<string> | undefined;
  private states: Map<object, unknown> | undefined;
  /** Task ids evicted by this transaction (valid evictions only). */
  evicted: ReadonlySet<string> | undefined;

  constructor(cell: CellState, txn: Transaction, granularity: Granularity) {
    this.cell = cell;
    this.txn = txn;
    this.granularity = granularity;
    this.dims = cell.space.size;
    this.booked = undefined;
    this.named = undefined;
    this.states = undefined;
    this.evicted = undefined;
  }

  /** The node's allocation as this transaction leaves it so far (evictions out, accepted claims in). */
  allocatedOn(node: NodeState): ResourceVector {
    return this.booked?.get(node) ?? node.allocated;
  }

  /** True when an earlier claim of this transaction named the task. */
  namedEarlier(taskId: string): boolean {
    return this.named !== undefined && this.named.has(taskId);
  }

  /** Per-transaction state of one check, created by `init` on first use. */
  stateOf<T>(check: object, init: () => T): T {
    const states = (this.states ??= new Map());
    let s = states.get(check) as T | undefined;
    if (s === undefined) states.set(check, (s = init()));
    return s;
  }

  /** Notes a claim's task id as named (accepted or not: a second claim for it is a duplicate). */
  name(taskId: string): void {
    (this.named ??= new Set()).add(taskId);
  }

  /** Books an accepted claim on its node, for the transaction's later claims. */
  book(claim: Claim, node: NodeState): void {
    const booked = (this.booked ??= new Map());
    let b = booked.get(node);
    if (b === undefined) booked.set(node, (b = Float64Array.from(node.allocated)));
    addInto(b, claim.demand);
  }

  /**
   * Takes the evicted tasks off their node before any claim is checked: the node's allocation is
   * re-summed from the allocations left, in booking order (what `CellState.release` computes).
   */
  evict(node: NodeState, taskIds: ReadonlySet<string>): void {
    const b = new Float64Array(node.allocated.length);
    for (const a of node.allocations.values()) if (!taskIds.has(a.taskId)) addInto(b, a.demand);
    (this.booked ??= new Map()).set(node, b);
  }
}
