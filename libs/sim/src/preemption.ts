/**
 * Preemption in the simulator (DESIGN §11), built from the pieces the services run, not a model
 * of them: the replicas' pipelines get policy's `preemption` post-filter (as the scheduler's
 * `--preemption on` adds it), the committer runs core's `preemptionPolicyCheck` after
 * DEFAULT_EVICTION_CHECKS (as cell-state's model does) on the simulator's own numbers (job
 * priority, commit time of each claim in simulated ms, queue usage), and syncs carry each node's
 * RunningTask list (cell-state's `withRunningTasks`). Only when preemption is on: other runs keep
 * their speed and their exact results.
 *
 * This file keeps the book: which task runs where since when (for the task lists, the min-runtime
 * rule and the cancelled ends of victims), and one {@link EvictionRecord} per eviction, so the
 * invariants can check that every victim was re-queued exactly once and placed again or reported.
 */
import {
  DEFAULT_EVICTION_CHECKS, DEFAULT_PREEMPTION_MIN_RUNTIME_S, DEFAULT_PREEMPTION_PRIORITY_GAP, preemptionPolicyCheck, quotaUsageOf,
  type CellState, type EvictionCheck, type JobSpec, type NodeSnapshot, type NodeState, type PartitionSync, type QueueTree, type ResourceVector,
  type RunningTask, type TaskRequest,
} from '@tessera/core';
import { PREEMPTION, scorerShorthand, type PipelineSpec, type PreemptionArgs } from '@tessera/policy';
import { Samples } from './samples.ts';

/**
 * `SimConfig.preemption`: the post-filter's own args (`priorityGap` 10, `minRuntimeS` 30,
 * `maxCandidates` 100, `maxPerSecond` 50 per replica by default); the committer checks evictions
 * with the same gap and minimum run time.
 */
export type SimPreemptionOptions = PreemptionArgs;

/** The pipeline with the preemption post-filter added (kept as it is when the spec configures one itself). */
export function withPreemptionPostFilter(spec: PipelineSpec | undefined, scorer: string, args: SimPreemptionOptions): PipelineSpec {
  const base = spec ?? scorerShorthand(scorer);
  const post = base.postFilters ?? [];
  if (post.some((p) => (typeof p === 'string' ? p : p.name) === PREEMPTION)) return base;
  return { ...base, postFilters: [...post, { name: PREEMPTION, args }] };
}

/** One eviction and what became of its victim. */
export interface EvictionRecord {
  readonly taskId: string;
  readonly jobId: string;
  readonly atMs: number;
  /** Times the victim was handed back to be placed again for this eviction (must be 1). */
  requeued: number;
  /** When the victim was committed again (undefined: not, or given up). */
  placedAgainAtMs: number | undefined;
  /** The hand-back was given up (reported unschedulable). */
  givenUp: boolean;
}

export interface PreemptionStats {
  /** Victims evicted by committed transactions. */
  evictions: number;
  /** Committed transactions that evicted at least one task. */
  preemptingTxns: number;
  /** Committed claims whose placement needed evictions (the preemptor tasks). */
  preemptorTasks: number;
  /** Victims handed back (re-queued). */
  requeued: number;
  /** Victims committed again after their eviction. */
  placedAgain: number;
  /** Victims whose hand-back was given up. */
  givenUp: number;
  /** Per victim placed again: eviction → committed again (ms). */
  replaceDelayMs: Samples;
  /** Σ over victims of the time they had run when evicted (task·ms thrown away: a victim starts again from scratch). */
  lostTaskMs: number;
  /** Nodes found over-committed right after a commit (node: resource allocated > capacity); must stay empty. */
  overCommits: string[];
  /** Every eviction, in order. */
  readonly ledger: EvictionRecord[];
}

interface Running<R> {
  readonly rt: RunningTask;
  readonly task: TaskRequest;
  readonly rec: R;
  /** The task-end event's id list holding this task (blanked when it is evicted: its end is cancelled). */
  readonly ends: string[];
}

/** A victim the committer released, with what the engine needs to hand it back. */
export interface Victim<R> {
  readonly task: TaskRequest;
  readonly rec: R;
  readonly demand: ResourceVector;
}

export class PreemptionBook<R> {
  readonly stats: PreemptionStats = {
    evictions: 0, preemptingTxns: 0, preemptorTasks: 0, requeued: 0, placedAgain: 0, givenUp: 0,
    replaceDelayMs: new Samples(), lostTaskMs: 0, overCommits: [], ledger: [],
  };
  private readonly running = new Map<string, Running<R>>();
  private readonly jobs = new Map<string, JobSpec>();
  /** A node's task list as of its version (syncs of an unchanged node share it). */
  private readonly lists = new WeakMap<NodeState, { version: number; tasks: readonly RunningTask[] }>();
  /** Tasks placed with evictions in a proposal, until their transaction is decided. */
  private readonly preempting = new Set<string>();
  /** Task id → its eviction waiting for the task to be placed again. */
  private readonly open = new Map<string, EvictionRecord>();

  constructor(readonly options: SimPreemptionOptions) {}

  /** The committer's eviction checks, as cell-state builds them; `now` is the simulated clock. */
  evictionChecks(cell: CellState, now: () => number, tree: QueueTree | undefined, capacity: ResourceVector): EvictionCheck[] {
    return [...DEFAULT_EVICTION_CHECKS, preemptionPolicyCheck({
      policy: { priorityGap: this.options.priorityGap ?? DEFAULT_PREEMPTION_PRIORITY_GAP, minRuntimeMs: (this.options.minRuntimeS ?? DEFAULT_PREEMPTION_MIN_RUNTIME_S) * 1000 },
      now,
      priorityOf: (jobId) => this.jobs.get(jobId)?.priority,
      startedAt: (taskId) => this.running.get(taskId)?.rt.startedAt,
      gangOf: (jobId) => this.jobs.get(jobId)?.gang === true,
      quota: () => quotaUsageOf(tree, cell.queueAllocated(), capacity),
    })];
  }

  noteJob(job: JobSpec): void {
    this.jobs.set(job.id, job);
  }

  /** A proposal placed `taskId` with evictions. */
  notePreempting(taskId: string): void {
    this.preempting.add(taskId);
  }

  /** A claim committed at `atMs`; `ends` is the id list of the event that will end it. */
  placed(task: TaskRequest, rec: R, atMs: number, ends: string[]): void {
    const job = this.jobs.get(task.jobId);
    const rt: RunningTask = {
      taskId: task.id, jobId: task.jobId, demand: task.demand, priority: job?.priority ?? task.priority,
      queue: job?.queue ?? 'default', preemptible: job?.preemptible === true, startedAt: atMs,
      ...(job?.gang === true ? { gang: true } : {}),
    };
    this.running.set(task.id, { rt, task, rec, ends });
    if (this.preempting.delete(task.id)) this.stats.preemptorTasks++;
    const e = this.open.get(task.id);
    if (e !== undefined) {
      this.open.delete(task.id);
      e.placedAgainAtMs = atMs;
      this.stats.placedAgain++;
      this.stats.replaceDelayMs.add(atMs - e.atMs);
    }
  }

  /** A transaction was decided: its proposal's preemptor marks go (the committed ones were counted). */
  decided(claims: readonly { readonly taskId: string }[]): void {
    if (this.preempting.size === 0) return;
    for (const c of claims) this.preempting.delete(c.taskId);
  }

  ended(taskId: string): void {
    this.running.delete(taskId);
  }

  /**
   * The committer evicted these tasks at `atMs`: each one's end is cancelled and an eviction is
   * recorded; returned for the engine to hand back (unknown ids are left out).
   */
  evicted(taskIds: readonly string[], atMs: number): Victim<R>[] {
    const out: Victim<R>[] = [];
    this.stats.preemptingTxns++;
    for (const id of taskIds) {
      const r = this.running.get(id);
      if (r === undefined) continue;
      this.running.delete(id);
      const i = r.ends.indexOf(id);
      if (i >= 0) r.ends[i] = '';
      const e: EvictionRecord = { taskId: id, jobId: r.rt.jobId, atMs, requeued: 0, placedAgainAtMs: undefined, givenUp: false };
      this.stats.ledger.push(e);
      this.open.set(id, e);
      this.stats.evictions++;
      this.stats.lostTaskMs += atMs - r.rt.startedAt;
      out.push({ task: r.task, rec: r.rec, demand: r.rt.demand });
    }
    return out;
  }

  /** The victims are handed back to be placed again (once per eviction). */
  requeued(tasks: readonly TaskRequest[]): void {
    for (const t of tasks) {
      const e = this.open.get(t.id);
      if (e !== undefined) e.requeued++;
      this.stats.requeued++;
    }
  }

  /** A hand-back gave these tasks up. */
  gaveUp(tasks: readonly TaskRequest[]): void {
    for (const t of tasks) {
      const e = this.open.get(t.id);
      if (e === undefined) continue;
      this.open.delete(t.id);
      e.givenUp = true;
      this.stats.givenUp++;
    }
  }

  /** Victims neither placed again nor given up (only when a run stopped early). */
  get pendingVictims(): number {
    return this.open.size;
  }

  /** The sync with each node's running tasks (the same list object while the node is unchanged). */
  withTasks(sync: PartitionSync, cell: CellState): PartitionSync {
    if (sync.nodes.length === 0) return sync;
    const nodes: NodeSnapshot[] = sync.nodes.map((s) => {
      const n = cell.node(s.id);
      return n === undefined ? s : { ...s, tasks: this.tasksOf(n) };
    });
    return { ...sync, nodes };
  }

  private tasksOf(n: NodeState): readonly RunningTask[] {
    const c = this.lists.get(n);
    if (c !== undefined && c.version === n.version) return c.tasks;
    const tasks: RunningTask[] = [];
    for (const a of n.allocations.values()) {
      const r = this.running.get(a.taskId);
      if (r !== undefined) tasks.push(r.rt);
    }
    this.lists.set(n, { version: n.version, tasks });
    return tasks;
  }
}
