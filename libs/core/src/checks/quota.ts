/**
 * Quota (DESIGN §10): at every committed version, for every queue on a claim's path, allocated ≤
 * max. The committer's check is the authoritative one: N replicas racing cannot exceed a max,
 * whatever their views said. Preemptible claims count against no quota; a claim whose queue the
 * tree does not know (removed by a later `queues apply`) is bounded only by the ancestors it knows.
 */
import type { NodeState } from '../node.ts';
import { addQueueUsage, queuePrefixes, DEFAULT_QUEUE, type QueueTree } from '../queues/tree.ts';
import { ConflictReason } from '../reasons.ts';
import type { ResourceVector } from '../resources.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const QUOTA_CHECK = 'quota';

/** `tree()` is read per transaction (a live `queues apply` takes effect at the next one). */
export function quotaCheck(tree: () => QueueTree | undefined): ClaimCheck {
  // Per transaction: what its accepted claims add and its evictions free, per queue path.
  const pending = (txn: TxnScope) => txn.stateOf(check, () => {
    const m = new Map<string, ResourceVector>();
    if (txn.evicted !== undefined) {
      for (const id of txn.evicted) {
        const a = txn.cell.allocationOf(id);
        if (a !== undefined && a.preemptible !== true) addQueueUsage(m, a.queue ?? DEFAULT_QUEUE, a.demand.map((x) => -x));
      }
    }
    return m;
  });
  const check: ClaimCheck = {
    name: QUOTA_CHECK,
    check(claim: Claim, _node: NodeState | undefined, txn: TxnScope) {
      if (claim.preemptible === true) return undefined;
      const t = tree();
      if (t === undefined || !t.hasMax) return undefined;
      const used = txn.cell.queueAllocated();
      const mine = pending(txn);
      const d = claim.demand;
      for (const path of queuePrefixes(claim.queue ?? DEFAULT_QUEUE)) {
        const q = t.get(path);
        if (q === undefined) continue;
        const a = used.get(path);
        const b = mine.get(path);
        for (let k = 0; k < d.length; k++) {
          if (!((a === undefined ? 0 : a[k]) + (b === undefined ? 0 : b[k]) + d[k] <= q.max[k])) return ConflictReason.quota;
        }
      }
      return undefined;
    },
    accepted(claim: Claim, _node: NodeState, txn: TxnScope) {
      if (claim.preemptible !== true) addQueueUsage(pending(txn), claim.queue ?? DEFAULT_QUEUE, claim.demand);
    },
  };
  return check;
}
