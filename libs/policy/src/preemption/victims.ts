/**
 * Victim selection for preemption (DESIGN §11), pure: which running tasks a non-preemptible task
 * that fits nowhere may evict, and on which node the fewest, least important of them make room.
 *
 * The algorithm is kube-scheduler's DefaultPreemption (`SelectVictimsOnNode` +
 * `pickOneNodeForPreemption`), on tessera's notions:
 * - **Eligible victims** ({@link victimCause}): preemptible tasks; tasks whose priority is lower by
 *   at least `priorityGap`; tasks of a queue above its guaranteed share while the preemptor's queue
 *   stays within its own (reclaim) — never pushing the victim's queue below guaranteed. A task that
 *   started less than `minRuntimeMs` ago is never a victim (no preemption storms), nor is a task of
 *   the preemptor's own job. A preemptible task never preempts.
 * - **Per node**: remove every eligible task; if the preemptor still does not fit, the node cannot
 *   help. Otherwise give tasks back, most important first (non-preemptible before preemptible, then
 *   higher priority, then longer running), keeping each one that still leaves room. What is left
 *   are the node's victims. A *violation* (kube's PDB violation) is a non-preemptible victim: a task
 *   nobody declared disposable. They are given back first, so preemptible tasks go first.
 * - **Node order**: fewest violations, then lowest highest-victim priority, lowest sum of
 *   priorities, fewest victims, most recently started (latest earliest start), then visit order.
 * - **Several tasks** ({@link selectVictims}): tasks are placed one after another on a working
 *   overlay (room booked, victims taken, queue usage moved), so two preemptor tasks never count
 *   the same room or victim twice. `allOrNothing` (a gang): if one task finds no room, none does.
 *
 * Nothing here reads a clock: `now` comes in. Node visit order is the caller's (shuffle it with a
 * seeded rng, as placement does); `maxCandidates` bounds how many helpful nodes are examined
 * (kube's minCandidateNodes), the first found in visit order.
 */
import { addInto, dominantShare, fitsWith, type ResourceVector } from '@tessera/core';

/** The task that needs room. */
export interface Preemptor {
  readonly taskId: string;
  readonly jobId: string;
  readonly demand: ResourceVector;
  readonly priority: number;
  readonly queue: string;
  readonly preemptible: boolean;
}

/** A running task as preemption sees it. */
export interface VictimTask extends Preemptor {
  /** ms (caller's clock) when the task was committed; the min-runtime rule counts from here. */
  readonly startedAt: number;
}

/** A node with the tasks running on it. `allocated` (+ `reserved`) includes those tasks. */
export interface PreemptionNode {
  readonly id: string;
  readonly capacity: ResourceVector;
  readonly allocated: ResourceVector;
  readonly reserved?: ResourceVector | undefined;
  readonly tasks: readonly VictimTask[];
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

/** Why no preemption was proposed (constant strings; operators see them). */
export const PreemptionReason = {
  preemptor_preemptible: 'a preemptible task never preempts',
  no_victims: 'no eligible victims make room',
} as const;
export type PreemptionReason = (typeof PreemptionReason)[keyof typeof PreemptionReason];

/** One victim chosen, with the rule that allowed it. */
export interface ChosenVictim {
  readonly task: VictimTask;
  readonly cause: VictimCause;
}

/** Where one preemptor task goes and whom it evicts there (victims most important first). */
export interface PreemptionChoice {
  readonly taskId: string;
  readonly nodeId: string;
  readonly victims: readonly ChosenVictim[];
  /** Non-preemptible victims (kube's PDB violations). */
  readonly violations: number;
}

export type PreemptionResult =
  | { readonly ok: true; readonly choices: readonly PreemptionChoice[] }
  | { readonly ok: false; readonly reason: PreemptionReason; readonly taskId: string };

/**
 * The rule by which `victim` may be evicted for `preemptor`, ignoring quota headroom (reclaim's
 * "not below guaranteed" needs the other victims too; see {@link reclaimHeadroom}). The committer
 * asks the same question of its authoritative state.
 */
export function victimCause(victim: VictimTask, preemptor: Preemptor, policy: PreemptionPolicy, now: number, quota?: QuotaUsage): VictimCause | undefined {
  if (preemptor.preemptible || victim.jobId === preemptor.jobId) return undefined;
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
export function reclaimHeadroom(quota: QuotaUsage, queue: string): ResourceVector | undefined {
  const q = quota.queues.get(queue);
  if (q === undefined) return undefined;
  const h = new Float64Array(q.allocated.length);
  for (let i = 0; i < h.length; i++) h[i] = q.allocated[i] - q.guaranteed[i];
  return h;
}

/** Weighted dominant share of a queue's allocation (+ `delta`), as DRF orders queues. */
export function weightedShare(quota: QuotaUsage, queue: string, delta?: ResourceVector): number {
  const q = quota.queues.get(queue);
  if (q === undefined) return 0;
  const used = Float64Array.from(q.allocated);
  if (delta !== undefined) addInto(used, delta);
  return dominantShare(quota.cellCapacity, used) / (q.weight > 0 ? q.weight : 1);
}

/** kube-scheduler's MoreImportantPod: non-preemptible first, then higher priority, then started earlier. */
function moreImportant(a: VictimTask, b: VictimTask): number {
  if (a.preemptible !== b.preemptible) return a.preemptible ? 1 : -1;
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.startedAt - b.startedAt;
}

/** The working state shared by the tasks of one selection: room booked, victims taken, usage moved. */
class Overlay {
  /** Per node: claims booked minus victims' demands. */
  readonly delta = new Map<string, Float64Array>();
  readonly evicted = new Set<string>();
  readonly quota: QuotaUsage | undefined;

  constructor(quota: QuotaUsage | undefined) {
    // Copied: the overlay moves usage between queues as it books, and the caller's stays as it was.
    this.quota = quota === undefined ? undefined : {
      cellCapacity: quota.cellCapacity,
      queues: new Map([...quota.queues].map(([k, q]) => [k, { ...q, allocated: Float64Array.from(q.allocated) }])),
    };
  }

  /** The node's used room (allocated + reserved + booked − evicted) into `out`. */
  used(node: PreemptionNode, out: Float64Array): Float64Array {
    out.set(node.allocated);
    if (node.reserved !== undefined) addInto(out, node.reserved);
    const d = this.delta.get(node.id);
    if (d !== undefined) addInto(out, d);
    return out;
  }

  book(nodeId: string, v: ResourceVector, sign: 1 | -1): void {
    let d = this.delta.get(nodeId);
    if (d === undefined) this.delta.set(nodeId, (d = new Float64Array(v.length)));
    for (let i = 0; i < v.length; i++) d[i] += sign * v[i];
  }

  moveUsage(queue: string, v: ResourceVector, sign: 1 | -1): void {
    const q = this.quota?.queues.get(queue);
    if (q === undefined) return;
    for (let i = 0; i < v.length; i++) q.allocated[i] += sign * v[i];
  }
}

interface NodeCandidate {
  readonly node: PreemptionNode;
  readonly victims: ChosenVictim[];
  readonly violations: number;
}

/**
 * kube-scheduler's SelectVictimsOnNode: the fewest, least important eligible tasks of `node` whose
 * eviction makes room for `preemptor`; undefined when evicting every eligible task is not enough.
 */
function victimsOnNode(node: PreemptionNode, preemptor: Preemptor, policy: PreemptionPolicy, now: number, overlay: Overlay): NodeCandidate | undefined {
  const potential: ChosenVictim[] = [];
  for (const t of node.tasks) {
    if (overlay.evicted.has(t.taskId)) continue;
    const cause = victimCause(t, preemptor, policy, now, overlay.quota);
    if (cause !== undefined) potential.push({ task: t, cause });
  }
  if (potential.length === 0) return undefined;
  potential.sort((a, b) => moreImportant(a.task, b.task));
  // Reclaim may take from a queue only down to its guaranteed share: least important first, the
  // rest of that queue's tasks are not potential victims on this node.
  if (overlay.quota !== undefined && potential.some((v) => v.cause === 'reclaim')) {
    const headroom = new Map<string, ResourceVector | undefined>();
    const keep = new Set<ChosenVictim>();
    for (let i = potential.length - 1; i >= 0; i--) {
      const v = potential[i];
      if (v.cause !== 'reclaim') continue;
      if (!headroom.has(v.task.queue)) headroom.set(v.task.queue, reclaimHeadroom(overlay.quota, v.task.queue));
      const h = headroom.get(v.task.queue);
      if (h === undefined || !withinHeadroom(h, v.task.demand)) continue;
      for (let k = 0; k < h.length; k++) h[k] -= v.task.demand[k];
      keep.add(v);
    }
    for (let i = potential.length - 1; i >= 0; i--) if (potential[i].cause === 'reclaim' && !keep.has(potential[i])) potential.splice(i, 1);
    if (potential.length === 0) return undefined;
  }
  const used = overlay.used(node, new Float64Array(node.capacity.length));
  for (const v of potential) subtract(used, v.task.demand);
  if (!fitsWith(node.capacity, used, undefined, preemptor.demand)) return undefined;
  // Give tasks back, violating (non-preemptible) ones first, each group most important first.
  const victims: ChosenVictim[] = [];
  let violations = 0;
  for (const violating of [true, false]) {
    for (const v of potential) {
      if (v.task.preemptible === violating) continue;
      addInto(used, v.task.demand);
      if (fitsWith(node.capacity, used, undefined, preemptor.demand)) continue;
      subtract(used, v.task.demand);
      victims.push(v);
      if (violating) violations++;
    }
  }
  victims.sort((a, b) => moreImportant(a.task, b.task));
  return { node, victims, violations };
}

/** `demand` ≤ `headroom` on every resource it asks for. */
function withinHeadroom(headroom: ResourceVector, demand: ResourceVector): boolean {
  for (let i = 0; i < demand.length; i++) if (demand[i] > 0 && !(demand[i] <= headroom[i])) return false;
  return true;
}

function subtract(target: Float64Array, v: ResourceVector): void {
  for (let i = 0; i < v.length; i++) target[i] -= v[i];
}

/**
 * kube-scheduler's pickOneNodeForPreemption, each criterion applied only to break the ties of
 * the one before. A candidate without victims wins every criterion.
 */
export function pickCandidate<C extends { readonly victims: readonly ChosenVictim[]; readonly violations: number }>(candidates: readonly C[]): C | undefined {
  const highest = (c: C): number => c.victims.reduce((m, v) => Math.max(m, v.task.priority), -Infinity);
  const criteria: ((c: C) => number)[] = [
    (c) => -c.violations,
    (c) => -highest(c),
    (c) => -c.victims.reduce((s, v) => s + v.task.priority, 0),
    (c) => -c.victims.length,
    // The earliest start among the highest-priority victims: the later, the less work is lost.
    (c) => {
      const h = highest(c);
      return c.victims.reduce((m, v) => (v.task.priority === h ? Math.min(m, v.task.startedAt) : m), Infinity);
    },
  ];
  let pool = candidates;
  for (const score of criteria) {
    if (pool.length <= 1) break;
    let best = -Infinity;
    let next: C[] = [];
    for (const c of pool) {
      const s = score(c);
      if (s > best) {
        best = s;
        next = [c];
      } else if (s === best) next.push(c);
    }
    pool = next;
  }
  return pool[0];
}

/**
 * Finds room for every preemptor task in turn on `nodes` (in the caller's visit order), evicting
 * victims where it does not fit as is. `nodeAllows` says whether a node passes every check but
 * resources (node state, constraints): only those are candidates. Tasks of one call never share
 * room or victims; `allOrNothing` gives back nothing unless every task found room.
 */
export function selectVictims(
  nodes: readonly PreemptionNode[],
  preemptors: readonly Preemptor[],
  policy: PreemptionPolicy,
  now: number,
  options: { readonly quota?: QuotaUsage; readonly allOrNothing?: boolean; readonly nodeAllows?: (node: PreemptionNode, task: Preemptor) => boolean } = {},
): PreemptionResult {
  const overlay = new Overlay(options.quota);
  const limit = policy.maxCandidates ?? DEFAULT_PREEMPTION_MAX_CANDIDATES;
  const choices: PreemptionChoice[] = [];
  const scratch = new Float64Array(nodes[0]?.capacity.length ?? 0);
  for (const p of preemptors) {
    if (p.preemptible) {
      if (options.allOrNothing) return { ok: false, reason: PreemptionReason.preemptor_preemptible, taskId: p.taskId };
      continue;
    }
    let chosen: NodeCandidate | undefined;
    const candidates: NodeCandidate[] = [];
    for (const node of nodes) {
      if (options.nodeAllows !== undefined && !options.nodeAllows(node, p)) continue;
      // Room without evicting anyone (left by another task's victims, or never taken): no victims.
      if (fitsWith(node.capacity, overlay.used(node, scratch), undefined, p.demand)) {
        chosen = { node, victims: [], violations: 0 };
        break;
      }
      const c = victimsOnNode(node, p, policy, now, overlay);
      if (c !== undefined && candidates.push(c) >= limit) break;
    }
    chosen ??= pickCandidate(candidates);
    if (chosen === undefined) {
      if (options.allOrNothing) return { ok: false, reason: PreemptionReason.no_victims, taskId: p.taskId };
      continue;
    }
    for (const v of chosen.victims) {
      overlay.evicted.add(v.task.taskId);
      overlay.book(chosen.node.id, v.task.demand, -1);
      if (!v.task.preemptible) overlay.moveUsage(v.task.queue, v.task.demand, -1);
    }
    overlay.book(chosen.node.id, p.demand, 1);
    overlay.moveUsage(p.queue, p.demand, 1);
    choices.push({ taskId: p.taskId, nodeId: chosen.node.id, victims: chosen.victims, violations: chosen.violations });
  }
  if (choices.length === 0 && preemptors.length > 0) return { ok: false, reason: PreemptionReason.no_victims, taskId: preemptors[0].taskId };
  return { ok: true, choices };
}
