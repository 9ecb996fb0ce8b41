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
  /** Still in the outbox (not acknowledged by key since it was queued). */
  queued: boolean;
  /** An older entry of the same task and node still in the outbox, replaced in `ended` by this one. */
  older?: EndedEntry;
}

export interface TaskBookOptions {
  /** How long an acknowledged end still blocks a re-run of the same task on the same node. */
  readonly endedGraceMs: number;
}

/**
 * Every operation is O(1) or amortised O(1) per task (the agent books tens of thousands of tasks
 * per second): ends are looked up per node then per task (no key strings built), the outbox is a
 * queue with a moving head (acknowledged entries are dropped lazily, the array compacted in bulk),
 * and expiry pops acknowledgements in the order they happened instead of scanning every end.
 */
export class TaskBook {
  private readonly running = new Map<string, RunningTask>();
  private readonly byNode = new Map<string, Set<string>>();
  /** Ends by node, then by task id. */
  private readonly ended = new Map<string, Map<string, EndedEntry>>();
  /** Ends in the order they happened, from `head` on; entries no longer `queued` are skipped. */
  private outbox: EndedEntry[] = [];
  private head = 0;
  private queued = 0;
  /** Acknowledgements in the order they happened (an entry acknowledged twice appears twice). */
  private acks: { entry: EndedEntry; at: number }[] = [];
  private acksHead = 0;
  /** False once an acknowledgement time went backwards: expiry then scans every end. */
  private acksOrdered = true;

  constructor(
    private readonly isOwnNode: (nodeId: string) => boolean,
    private readonly opts: TaskBookOptions,
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  get pendingReports(): number {
    return this.queued;
  }

  /** Decides whether to start `a`; on `start` the task is booked as running. */
  admit(a: Assignment, now: number): Admission {
    if (!this.isOwnNode(a.nodeId)) return { verdict: 'refuse', reason: REFUSAL.notMyNode };
    if (this.running.has(a.taskId)) return { verdict: 'refuse', reason: REFUSAL.alreadyRunning };
    const prior = this.ended.get(a.nodeId)?.get(a.taskId);
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
    let onNode = this.ended.get(end.nodeId);
    if (onNode === undefined) this.ended.set(end.nodeId, (onNode = new Map()));
    const before = onNode.get(taskId);
    const entry: EndedEntry = { end, queued: true };
    if (before?.queued === true) entry.older = before;
    onNode.set(taskId, entry);
    this.outbox.push(entry);
    this.queued++;
    return end;
  }

  /** The cell said to stop it (it holds no allocation): forget it without a report. */
  stop(taskId: string): RunningTask | undefined {
    return this.remove(taskId);
  }

  /** Task ids per node, for the heartbeat (nodes without tasks are absent). */
  tasksOn(nodeId: string): string[] {
    const set = this.byNode.get(nodeId);
    return set === undefined ? [] : Array.from(set);
  }

  runningTaskIds(): string[] {
    return [...this.running.keys()];
  }

  /** The oldest unacknowledged ends, at most `max`, for one taskEnded request. */
  nextReports(max: number): TaskEnd[] {
    const out: TaskEnd[] = [];
    for (let i = this.head; i < this.outbox.length && out.length < max; i++) {
      const e = this.outbox[i];
      if (e.queued) out.push(e.end);
    }
    return out;
  }

  /** The cell acknowledged these reports. */
  acknowledge(reports: readonly TaskEnd[], now: number): void {
    for (const r of reports) {
      const e = this.ended.get(r.nodeId)?.get(r.taskId);
      if (e === undefined) continue;
      for (let q: EndedEntry | undefined = e; q !== undefined; q = q.older) {
        if (q.queued) {
          q.queued = false;
          this.queued--;
        }
      }
      e.older = undefined;
      if (e.ackedAt === now) continue; // the same report twice in one call
      e.ackedAt = now;
      const last = this.acks.length > this.acksHead ? this.acks[this.acks.length - 1].at : -Infinity;
      if (now < last) this.acksOrdered = false;
      this.acks.push({ entry: e, at: now });
    }
    while (this.head < this.outbox.length && !this.outbox[this.head].queued) this.head++;
    if (this.head > 1024 && this.head * 2 > this.outbox.length) {
      this.outbox = this.outbox.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets acknowledged ends older than the grace period (bounded memory). */
  expire(now: number): void {
    const grace = this.opts.endedGraceMs;
    if (!this.acksOrdered) {
      for (const [node, onNode] of this.ended) {
        for (const [task, e] of onNode) {
          if (e.ackedAt !== undefined && now - e.ackedAt >= grace) this.forget(node, task, onNode);
        }
      }
      this.acks = [];
      this.acksHead = 0;
      this.acksOrdered = true;
      for (const onNode of this.ended.values()) {
        for (const e of onNode.values()) if (e.ackedAt !== undefined) this.acks.push({ entry: e, at: e.ackedAt });
      }
      this.acks.sort((x, y) => x.at - y.at);
      return;
    }
    while (this.acksHead < this.acks.length) {
      const { entry, at } = this.acks[this.acksHead];
      if (now - at < grace) break;
      this.acksHead++;
      // Skipped when acknowledged again later (a later acknowledgement is queued) or replaced.
      if (entry.ackedAt !== at) continue;
      const onNode = this.ended.get(entry.end.nodeId);
      if (onNode?.get(entry.end.taskId) === entry) this.forget(entry.end.nodeId, entry.end.taskId, onNode);
    }
    if (this.acksHead > 1024 && this.acksHead * 2 > this.acks.length) {
      this.acks = this.acks.slice(this.acksHead);
      this.acksHead = 0;
    }
  }

  private forget(node: string, task: string, onNode: Map<string, EndedEntry>): void {
    onNode.delete(task);
    if (onNode.size === 0) this.ended.delete(node);
  }
}
