/**
 * The agent's bookkeeping of tasks, pure (time is passed in): which task runs on which node,
 * which assignments to refuse, and the outbox of task ends not yet acknowledged by the cell.
 *
 * Rules that keep DESIGN §5.2 ("no task runs twice at the same time"):
 * - a task id runs at most once on the agent, whatever node an assignment names;
 * - an assignment for a task that just ended on the same node is refused while its end is not
 *   yet acknowledged (and for a grace period after), because the cell still holds the
 *   allocation and its heartbeat reply lists the task as `missing` until the report lands;
 * - only assignments for the agent's own nodes are accepted (DESIGN §5.7).
 */
import type { Assignment } from '@tessera/protocol';

export const REFUSAL = {
  notMyNode: 'not_my_node',
  alreadyRunning: 'already_running',
  recentlyEnded: 'recently_ended',
} as const;
export type Refusal = (typeof REFUSAL)[keyof typeof REFUSAL];

export type Admission = { readonly verdict: 'start' } | { readonly verdict: 'refuse'; readonly reason: Refusal };

export const TASK_END_OUTCOMES = ['succeeded', 'failed'] as const;
export type TaskEndOutcome = (typeof TASK_END_OUTCOMES)[number];

export interface TaskResult {
  readonly outcome: TaskEndOutcome;
  readonly exitCode?: number;
  readonly reason?: string;
}

export interface RunningTask {
  readonly assignment: Assignment;
  readonly startedAt: number;
}

export interface TaskEnd extends TaskResult {
  readonly taskId: string;
  readonly nodeId: string;
  readonly endedAt: number;
}

interface EndedEntry {
  readonly end: TaskEnd;
  /** When the cell acknowledged the report; undefined while it is still in the outbox. */
  ackedAt?: number;
}

export interface TaskBookOptions {
  /** How long an acknowledged end still blocks a re-run of the same task on the same node. */
  readonly endedGraceMs: number;
}

function endKey(taskId: string, nodeId: string): string {
  return `${nodeId}\u0000${taskId}`;
}

export class TaskBook {
  private readonly running = new Map<string, RunningTask>();
  private readonly byNode = new Map<string, Set<string>>();
  private readonly ended = new Map<string, EndedEntry>();
  /** Unacknowledged ends in the order they happened. */
  private outbox: TaskEnd[] = [];

  constructor(
    private readonly isOwnNode: (nodeId: string) => boolean,
    private readonly opts: TaskBookOptions,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  get pendingReports(): number {
    return this.outbox.length;
  }

  /** Decides whether to start `a`; on `start` the task is booked as running. */
  admit(a: Assignment, now: number): Admission {
    if (!this.isOwnNode(a.nodeId)) return { verdict: 'refuse', reason: REFUSAL.notMyNode };
    if (this.running.has(a.taskId)) return { verdict: 'refuse', reason: REFUSAL.alreadyRunning };
    const prior = this.ended.get(endKey(a.taskId, a.nodeId));
    if (prior !== undefined && (prior.ackedAt === undefined || now - prior.ackedAt < this.opts.endedGraceMs)) {
      return { verdict: 'refuse', reason: REFUSAL.recentlyEnded };
    }
    this.running.set(a.taskId, { assignment: a, startedAt: now });
    let set = this.byNode.get(a.nodeId);
    if (set === undefined) this.byNode.set(a.nodeId, (set = new Set()));
    set.add(a.taskId);
    return { verdict: 'start' };
  }

  get(taskId: string): RunningTask | undefined {
    return this.running.get(taskId);
  }

  private remove(taskId: string): RunningTask | undefined {
    const t = this.running.get(taskId);
    if (t === undefined) return undefined;
    this.running.delete(taskId);
    const set = this.byNode.get(t.assignment.nodeId);
    set?.delete(taskId);
    if (set !== undefined && set.size === 0) this.byNode.delete(t.assignment.nodeId);
    return t;
  }

  /** A running task ended by itself: queue its report. Undefined when it was not running (stopped). */
  finish(taskId: string, result: TaskResult, now: number): TaskEnd | undefined {
    const t = this.remove(taskId);
    if (t === undefined) return undefined;
    const end: TaskEnd = { taskId, nodeId: t.assignment.nodeId, endedAt: now, ...result };
    this.ended.set(endKey(taskId, end.nodeId), { end });
    this.outbox.push(end);
    return end;
  }

  /** The cell said to stop it (it holds no allocation): forget it without a report. */
  stop(taskId: string): RunningTask | undefined {
    return this.remove(taskId);
  }

  /** Task ids per node, for the heartbeat (nodes without tasks are absent). */
  tasksOn(nodeId: string): string[] {
    const set = this.byNode.get(nodeId);
    return set === undefined ? [] : [...set];
  }

  runningTaskIds(): string[] {
    return [...this.running.keys()];
  }

  /** The oldest unacknowledged ends, at most `max`, for one taskEnded request. */
  nextReports(max: number): TaskEnd[] {
    return this.outbox.slice(0, max);
  }

  /** The cell acknowledged these reports. */
  acknowledge(reports: readonly TaskEnd[], now: number): void {
    const done = new Set(reports.map((r) => endKey(r.taskId, r.nodeId)));
    this.outbox = this.outbox.filter((r) => !done.has(endKey(r.taskId, r.nodeId)));
    for (const k of done) {
      const e = this.ended.get(k);
      if (e !== undefined) e.ackedAt = now;
    }
  }

  /** Forgets acknowledged ends older than the grace period (bounded memory). */
  expire(now: number): void {
    for (const [k, e] of this.ended) {
      if (e.ackedAt !== undefined && now - e.ackedAt >= this.opts.endedGraceMs) this.ended.delete(k);
    }
  }
}
