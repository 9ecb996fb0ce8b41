/**
 * DESIGN §11's committer side of preemption: each eviction of a transaction must be allowed by the
 * same rules the scheduler chose it by (`victimCause`, preemption.ts), on the committer's
 * authoritative numbers — the victim's job priority, its claim's commit time (min runtime), the
 * queue usage — so a scheduler with a stale or wrong view cannot evict what it may not. A reclaim
 * must also leave the victim's queue at or above guaranteed (all of the transaction's reclaims from
 * it together) and keep Kueue's strict dominant-share inequality: after the swap the preemptor's
 * queue is still below the victim's, so two queues can never preempt each other in a cycle.
 */
import type { Allocation, NodeState } from '../node.ts';
import { queueShareWith, reclaimHeadroom, victimCause, type PreemptionPolicy, type Preemptor, type QuotaUsage } from '../preemption.ts';
import { ConflictReason } from '../reasons.ts';
import { addInto, type ResourceVector } from '../resources.ts';
import type { Eviction } from '../txn.ts';
import type { EvictionCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const PREEMPTION_POLICY_CHECK = 'preemption-policy';

export interface PreemptionPolicyDeps {
  readonly policy: PreemptionPolicy;
  /** The committer's clock (ms), the one claims' commit times are stamped with. */
  readonly now: () => number;
  /** A job's priority; undefined for a job the committer does not know (its tasks preempt nothing but preemptible ones). */
  readonly priorityOf: (jobId: string) => number | undefined;
  /** When the task's claim was committed (ms); undefined: unknown (counted as long ago). */
  readonly startedAt: (taskId: string) => number | undefined;
  /** True for a job that is a gang (its tasks are never victims); absent: no job is. */
  readonly gangOf?: (jobId: string) => boolean;
  /** Queue usage and guaranteed shares; undefined: no queues with guarantees, so no reclaim. */
  readonly quota?: () => QuotaUsage | undefined;
}

/** Per transaction: the preemptor (its first claim's job) and what reclaim took from each queue so far. */
interface TxnPreemption {
  readonly preemptor: Preemptor | undefined;
  readonly reclaimed: Map<string, ResourceVector>;
}

function preemptorOf(txn: TxnScope, d: PreemptionPolicyDeps): Preemptor | undefined {
  const claims = txn.txn.claims;
  const first = claims[0];
  if (first === undefined) return undefined;
  const demand = new Float64Array(txn.cell.space.size);
  for (const c of claims) if (c?.demand instanceof Float64Array && c.demand.length === demand.length) addInto(demand, c.demand);
  return {
    taskId: first.taskId, jobId: first.jobId, demand, priority: d.priorityOf(first.jobId) ?? -Infinity,
    queue: first.queue ?? 'default', preemptible: claims.some((c) => c?.preemptible === true),
  };
}

export function preemptionPolicyCheck(d: PreemptionPolicyDeps): EvictionCheck {
  const check: EvictionCheck = {
    name: PREEMPTION_POLICY_CHECK,
    check(e: Eviction, a: Allocation | undefined, _node: NodeState | undefined, txn: TxnScope) {
      if (a === undefined) return undefined; // victim-present refuses it
      const s = txn.stateOf<TxnPreemption>(check, () => ({ preemptor: preemptorOf(txn, d), reclaimed: new Map() }));
      if (s.preemptor === undefined) return ConflictReason.preemption_policy;
      const quota = d.quota?.();
      const victim = {
        taskId: e.taskId, jobId: a.jobId, demand: a.demand, priority: d.priorityOf(a.jobId) ?? Infinity,
        queue: a.queue ?? 'default', preemptible: a.preemptible === true, startedAt: d.startedAt(a.taskId) ?? -Infinity,
        ...(d.gangOf?.(a.jobId) === true ? { gang: true } : {}),
      };
      const cause = victimCause(victim, s.preemptor, d.policy, d.now(), quota);
      if (cause === undefined) return ConflictReason.preemption_policy;
      if (cause !== 'reclaim' || quota === undefined) return undefined;
      const taken = s.reclaimed.get(victim.queue) ?? new Float64Array(a.demand.length);
      const after = Float64Array.from(taken);
      addInto(after, a.demand);
      const headroom = reclaimHeadroom(quota, victim.queue)!;
      for (let i = 0; i < after.length; i++) if (after[i] > 0 && !(after[i] <= headroom[i])) return ConflictReason.preemption_policy;
      const minus = after.map((x) => -x);
      if (!(queueShareWith(quota, s.preemptor.queue, s.preemptor.demand) < queueShareWith(quota, victim.queue, minus))) return ConflictReason.preemption_policy;
      s.reclaimed.set(victim.queue, after);
      return undefined;
    },
  };
  return check;
}
