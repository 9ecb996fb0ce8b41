/**
 * Who may evict whom (DESIGN §11): the eligibility rules of preemption, shared by the scheduler's
 * victim selection (libs/policy preemption/victims.ts) and the committer's `preemption-policy`
 * eviction check, so both ask exactly the same question. Pure: `now` comes in.
 *
 * A victim is eligible when it is preemptible; or its priority is lower than the preemptor's by at
 * least `priorityGap`; or (reclaim) its queue is above its guaranteed share while the preemptor's
 * queue stays within its own — and reclaim never pushes a queue below guaranteed
 * ({@link reclaimHeadroom}). Never a task of the preemptor's own job, never a task younger than
 * `minRuntimeMs`, never a task of a gang (the rest of the gang would go on without it), never for a
 * preemptible preemptor.
 */
import { weightedShare, type QueueTree } from './queues/tree.ts';
import { addInto, type ResourceVector } from './resources.ts';
import type { RunningTask } from './running-task.ts';

/** The task that needs room. */
export interface Preemptor {
  readonly taskId: string;
  readonly jobId: string;
  readonly demand: ResourceVector;
  readonly priority: number;
  readonly queue: string;
  readonly preemptible: boolean;
}

export interface PreemptionPolicy {
  /** `--preemption-priority-gap`: a victim's priority must be lower by at least this (default 10). */
  readonly priorityGap: number;
  /** `--preemption-min-runtime-s` in ms: a task younger than this is never a victim. */
  readonly minRuntimeMs: number;
  /** Helpful nodes examined per preemptor task (default 100). */
  readonly maxCandidates?: number;
}

export const DEFAULT_PREEMPTION_PRIORITY_GAP = 10;
export const DEFAULT_PREEMPTION_MIN_RUNTIME_S = 30;
export const DEFAULT_PREEMPTION_MAX_CANDIDATES = 100;

/**
 * Queue usage for reclaim: the committer's numbers (non-preemptible tasks only, DESIGN §10).
 * Absent queues (or no quota view at all) have nothing guaranteed, so reclaim never applies.
 */
export interface QuotaUsage {
  /** Total capacity of the cell (shares are ÷ this, as in DRF ordering). */
  readonly cellCapacity: ResourceVector;
  readonly queues: ReadonlyMap<string, { readonly allocated: ResourceVector; readonly guaranteed: ResourceVector; readonly weight: number }>;
}

/** Why a task may be evicted; undefined when it may not. */
export type VictimCause = 'preemptible' | 'priority' | 'reclaim';

/**
 * The rule by which `victim` may be evicted for `preemptor`, ignoring quota headroom (reclaim's
 * "not below guaranteed" needs the other victims too; see {@link reclaimHeadroom}). The committer
 * asks the same question of its authoritative state.
 */
export function victimCause(victim: RunningTask, preemptor: Preemptor, policy: PreemptionPolicy, now: number, quota?: QuotaUsage): VictimCause | undefined {
  if (preemptor.preemptible || victim.jobId === preemptor.jobId || victim.gang === true) return undefined;
  if (!(now - victim.startedAt >= policy.minRuntimeMs)) return undefined;
  if (victim.preemptible) return 'preemptible';
  if (victim.priority + policy.priorityGap <= preemptor.priority) return 'priority';
  if (quota !== undefined && victim.queue !== preemptor.queue && isAboveGuaranteed(quota, victim.queue) && isWithinGuaranteedWith(quota, preemptor.queue, preemptor.demand)) return 'reclaim';
  return undefined;
}

/** Allocated exceeds guaranteed on some resource (the queue borrows). */
export function isAboveGuaranteed(quota: QuotaUsage, queue: string): boolean {
  const q = quota.queues.get(queue);
  if (q === undefined) return false;
  for (let i = 0; i < q.allocated.length; i++) if (q.allocated[i] > q.guaranteed[i]) return true;
  return false;
}

/** allocated + extra ≤ guaranteed on every resource `extra` asks for (the queue does not borrow). */
export function isWithinGuaranteedWith(quota: QuotaUsage, queue: string, extra: ResourceVector): boolean {
  const q = quota.queues.get(queue);
  if (q === undefined) return false;
  for (let i = 0; i < extra.length; i++) if (extra[i] > 0 && !(q.allocated[i] + extra[i] <= q.guaranteed[i])) return false;
  return true;
}

/** What reclaim may still take from a queue without pushing it below guaranteed: allocated − guaranteed. */
/**
 * The reclaim view of a queue tree: every queue (inner ones too) with its allocation (`allocated`
 * per path, inner queues included, as CellState.queueAllocated keeps it), guaranteed and weight.
 * Undefined when no queue has anything guaranteed (no reclaim can apply). The committer builds it
 * from its own state, a scheduler from the usage shipped with sync replies.
 */
export function quotaUsageOf(tree: QueueTree | undefined, allocated: ReadonlyMap<string, ResourceVector>, cellCapacity: ResourceVector): QuotaUsage | undefined {
  if (tree === undefined) return undefined;
  const queues = new Map<string, { allocated: ResourceVector; guaranteed: ResourceVector; weight: number }>();
  let guaranteed = false;
  for (const n of tree.all()) {
    if (n.guaranteed.some((x) => x > 0)) guaranteed = true;
    queues.set(n.path, { allocated: allocated.get(n.path) ?? new Float64Array(cellCapacity.length), guaranteed: n.guaranteed, weight: n.weight });
  }
  return guaranteed ? { cellCapacity, queues } : undefined;
}

export function reclaimHeadroom(quota: QuotaUsage, queue: string): ResourceVector | undefined {
  const q = quota.queues.get(queue);
  if (q === undefined) return undefined;
  const h = new Float64Array(q.allocated.length);
  for (let i = 0; i < h.length; i++) h[i] = q.allocated[i] - q.guaranteed[i];
  return h;
}

/** Weighted dominant share of a queue's allocation (+ `delta`), as DRF orders queues (tree.ts's weightedShare). */
export function queueShareWith(quota: QuotaUsage, queue: string, delta?: ResourceVector): number {
  const q = quota.queues.get(queue);
  if (q === undefined) return 0;
  const used = Float64Array.from(q.allocated);
  if (delta !== undefined) addInto(used, delta);
  return weightedShare(quota.cellCapacity, used, q.weight);
}
