/**
 * Quota (DESIGN §10): at every committed version, for every queue on a claim's path, allocated ≤
 * max. The committer's check is the authoritative one: N replicas racing cannot exceed a max,
 * whatever their views said. Preemptible claims count against no quota; a claim whose queue the
 * tree does not know (removed by a later `queues apply`) is bounded only by the ancestors it knows.
 */
import type { CellState } from '../cell.ts';
import type { NodeState } from '../node.ts';
import { addQueueUsage, queuePrefixes, DEFAULT_QUEUE, type QueueTree } from '../queues/tree.ts';
import { ConflictReason } from '../reasons.ts';
import type { ResourceVector } from '../resources.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const QUOTA_CHECK = 'quota';

/** One queue on a claim's path that has a max: the resources it bounds, their max, its tally slot. */
interface Bound {
  readonly path: string;
  readonly resources: Int32Array;
  readonly max: Float64Array;
  readonly slot: number;
}

const NO_BOUNDS: readonly Bound[] = Object.freeze([]);

/**
 * `tree()` is read per transaction (a live `queues apply` takes effect at the next one).
 * Hot path: a claim's bounds (the queues of its path with a finite max, and only the resources
 * they bound) are resolved once per queue name and tree; each bounded path gets a slot, which
 * holds the cell's usage vector for it (CellState keeps one vector per path for its lifetime and
 * updates it in place) and the transaction's own tally. So a claim costs array reads, not map
 * lookups per prefix, and a transaction allocates nothing unless it claims for a bounded queue.
 */
export function quotaCheck(tree: () => QueueTree | undefined): ClaimCheck {
  let boundsTree: QueueTree | undefined;
  const boundsByQueue = new Map<string, readonly Bound[]>();
  const slotOf = new Map<string, number>();
  // Per slot: the cell's usage vector (resolved lazily: a path nothing was booked on has none yet).
  let usedCell: CellState | undefined;
  let usedBySlot: (ResourceVector | undefined)[] = [];
  // Per slot: the current transaction's tally (accepted claims − evictions), valid when tallyGen[slot] === gen.
  const tallyBySlot: ResourceVector[] = [];
  const tallyGen: number[] = [];
  let gen = 0;
  let tallyScope: TxnScope | undefined;
  let evictedTally: Map<string, ResourceVector> | undefined;

  const boundsOf = (t: QueueTree, queue: string): readonly Bound[] => {
    if (t !== boundsTree) {
      boundsByQueue.clear();
      slotOf.clear();
      usedBySlot = [];
      tallyBySlot.length = 0;
      tallyGen.length = 0;
      boundsTree = t;
    }
    let b = boundsByQueue.get(queue);
    if (b === undefined) {
      const out: Bound[] = [];
      for (const path of queuePrefixes(queue)) {
        const q = t.get(path);
        if (q === undefined) continue;
        const resources: number[] = [];
        for (let k = 0; k < q.max.length; k++) if (q.max[k] !== Infinity) resources.push(k);
        if (resources.length === 0) continue;
        let slot = slotOf.get(path);
        if (slot === undefined) {
          slotOf.set(path, (slot = slotOf.size));
          tallyBySlot.push(new Float64Array(q.max.length));
          tallyGen.push(-1);
        }
        out.push({ path, resources: Int32Array.from(resources), max: Float64Array.from(resources, (k) => q.max[k]), slot });
      }
      b = out.length === 0 ? NO_BOUNDS : out;
      if (boundsByQueue.size < 10_000) boundsByQueue.set(queue, b);
    }
    return b;
  };

  const usedOf = (cell: CellState, bound: Bound): ResourceVector | undefined => {
    if (cell !== usedCell) {
      usedCell = cell;
      usedBySlot = [];
    }
    let v = usedBySlot[bound.slot];
    if (v === undefined) usedBySlot[bound.slot] = v = cell.queueAllocated().get(bound.path);
    return v;
  };

  /** Starts a new tally when `txn` is a new transaction (one is validated at a time). */
  const enter = (txn: TxnScope): void => {
    if (txn === tallyScope) return;
    tallyScope = txn;
    gen++;
    evictedTally = undefined;
    if (txn.evicted !== undefined) {
      for (const id of txn.evicted) {
        const a = txn.cell.allocationOf(id);
        if (a !== undefined && a.preemptible !== true) addQueueUsage((evictedTally ??= new Map()), a.queue ?? DEFAULT_QUEUE, a.demand.map((x) => -x));
      }
    }
  };

  /** The transaction's tally for `bound`'s slot (zeroed on first use in this transaction). */
  const tallyOf = (bound: Bound): ResourceVector => {
    const v = tallyBySlot[bound.slot];
    if (tallyGen[bound.slot] !== gen) {
      tallyGen[bound.slot] = gen;
      const e = evictedTally?.get(bound.path);
      if (e === undefined) v.fill(0);
      else v.set(e);
    }
    return v;
  };

  // The claim check() last passed and its bounds: accepted() follows check() for the same claim.
  let passedClaim: Claim | undefined;
  let passedBounds: readonly Bound[] = NO_BOUNDS;

  return {
    name: QUOTA_CHECK,
    check(claim: Claim, _node: NodeState | undefined, txn: TxnScope) {
      passedClaim = undefined;
      if (claim.preemptible === true) return undefined;
      const t = tree();
      if (t === undefined || !t.hasMax) return undefined;
      const bounds = boundsOf(t, claim.queue ?? DEFAULT_QUEUE);
      if (bounds.length === 0) return undefined;
      enter(txn);
      const d = claim.demand;
      for (let i = 0; i < bounds.length; i++) {
        const bound = bounds[i];
        const { resources, max } = bound;
        const a = usedOf(txn.cell, bound);
        const b = tallyOf(bound);
        for (let j = 0; j < resources.length; j++) {
          const k = resources[j];
          if (!((a === undefined ? 0 : a[k]) + b[k] + d[k] <= max[j])) return ConflictReason.quota;
        }
      }
      passedClaim = claim;
      passedBounds = bounds;
      return undefined;
    },
    accepted(claim: Claim, _node: NodeState, txn: TxnScope) {
      // Only a claim check() passed with bounds has anything to tally (preemptible, unbounded
      // and no-max claims never set passedClaim).
      if (claim !== passedClaim) return;
      passedClaim = undefined;
      const bounds = passedBounds;
      enter(txn);
      const d = claim.demand;
      for (let i = 0; i < bounds.length; i++) {
        const v = tallyOf(bounds[i]);
        for (let k = 0; k < d.length; k++) v[k] += d[k];
      }
    },
  };
}
