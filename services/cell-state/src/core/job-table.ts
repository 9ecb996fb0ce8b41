/**
 * The job table: every job the cell accepted, its tasks' states and where they run. Pure: it is
 * changed only by applying commit-log records (so replay rebuilds it), times come from the records.
 *
 * Task ids are `${jobId}/${group}/${index}` (core `taskId`); job ids and group names cannot hold
 * a `/`, so a task is found by parsing its id rather than through a map of every task.
 * Per job, task states are one byte each and nodes one string slot each.
 */
import { restartPolicyOf, type JobSpec } from '@tessera/core';
import type { JobListing, JobState, TaskState } from '@tessera/protocol';
import { lifeOf, listTaskLife, type TaskLife } from './task-life.ts';

/** Task state codes (index into TASK_STATE_NAMES). */
export const TaskCode = { pending: 0, placed: 1, running: 2, finished: 3, failed: 4 } as const;
export type TaskCode = (typeof TaskCode)[keyof typeof TaskCode];
const TASK_STATE_NAMES: readonly TaskState[] = ['pending', 'placed', 'running', 'finished', 'failed'];

export interface GroupInfo {
  readonly name: string;
  /** Index of the group's first task in the job's task arrays. */
  readonly offset: number;
  readonly count: number;
  readonly resources: Readonly<Record<string, number>>;
  readonly durationS?: number;
  readonly command?: readonly string[];
}

export interface JobEntry {
  readonly id: string;
  readonly tenant: string;
  readonly submittedAt: number;
  /** When every task was first committed (ms, from the commit record). */
  placedAt?: number;
  /** The validated spec; absent for a job refused at validation. */
  readonly spec?: JobSpec;
  readonly groups: ReadonlyMap<string, GroupInfo>;
  readonly groupList: readonly GroupInfo[];
  readonly taskState: Uint8Array;
  readonly taskNode: (string | undefined)[];
  /** How many tasks are in each state, indexed by TaskCode. */
  readonly counts: Int32Array;
  /** A verdict that ends the job regardless of its tasks (validation error, scheduler outcome). */
  outcome?: { readonly state: 'unschedulable' | 'failed'; readonly reason: string };
  /** How many times tasks of the job were handed back for rescheduling. */
  attempt: number;
  /** The first task failure, shown as the reason of a failed job. */
  firstFailure?: string;
  /** Restarts, preemptions and last failures per task; absent until a task first needs one. */
  life?: TaskLife;
}

/** A job as a snapshot keeps it (see `JobTable.restoreJob`). */
export interface SavedJob {
  readonly id: string;
  readonly tenant: string;
  readonly submittedAt: number;
  readonly placedAt?: number;
  readonly spec?: JobSpec;
  readonly taskState: Uint8Array;
  readonly taskNode: readonly (string | undefined)[];
  readonly outcome?: { readonly state: 'unschedulable' | 'failed'; readonly reason: string };
  readonly attempt: number;
  readonly firstFailure?: string;
}

export interface TaskRef {
  readonly job: JobEntry;
  readonly group: GroupInfo;
  /** Index into the job's task arrays. */
  readonly slot: number;
}

/** Splits `${job}/${group}/${index}`; undefined for any other shape. */
export function parseTaskId(taskId: string): { jobId: string; group: string; index: number } | undefined {
  const a = taskId.indexOf('/');
  const b = taskId.lastIndexOf('/');
  if (a <= 0 || b <= a + 1 || b === taskId.length - 1) return undefined;
  const tail = taskId.slice(b + 1);
  const index = Number(tail);
  if (!Number.isInteger(index) || index < 0 || String(index) !== tail) return undefined;
  return { jobId: taskId.slice(0, a), group: taskId.slice(a + 1, b), index };
}

export class JobTable {
  private readonly jobs = new Map<string, JobEntry>();
  /** Outcomes reported before the job itself was read from the jobs stream. */
  private readonly earlyOutcomes = new Map<string, { state: 'unschedulable' | 'failed'; reason: string }>();
  /** Commit time (`at` of the log entry) of the last task committed before its job was read. */
  private readonly earlyPlacedAt = new Map<string, number>();

  get size(): number {
    return this.jobs.size;
  }

  get(jobId: string): JobEntry | undefined {
    return this.jobs.get(jobId);
  }

  has(jobId: string): boolean {
    return this.jobs.has(jobId);
  }

  entries(): IterableIterator<JobEntry> {
    return this.jobs.values();
  }

  task(taskId: string): TaskRef | undefined {
    const p = parseTaskId(taskId);
    if (p === undefined) return undefined;
    const job = this.jobs.get(p.jobId);
    const group = job?.groups.get(p.group);
    if (job === undefined || group === undefined || p.index >= group.count) return undefined;
    return { job, group, slot: group.offset + p.index };
  }

  /** True when the task ran to its end (finished or failed): it must never be placed again. */
  isTaskEnded(taskId: string): boolean {
    const t = this.task(taskId);
    if (t === undefined) return false;
    const s = t.job.taskState[t.slot];
    return s === TaskCode.finished || s === TaskCode.failed;
  }

  /**
   * Accepts a validated job. Tasks already committed before the job was read (`placedOn` knows
   * them) start as placed. Returns undefined if the id is taken (a resubmission changes nothing).
   */
  accept(spec: JobSpec, submittedAt: number, placedOn: (taskId: string) => string | undefined): JobEntry | undefined {
    if (this.jobs.has(spec.id)) return undefined;
    const { groups, groupList, total } = groupsOf(spec);
    const job: JobEntry = {
      id: spec.id, tenant: spec.tenant, submittedAt, spec, groups, groupList,
      taskState: new Uint8Array(total), taskNode: new Array<string | undefined>(total).fill(undefined),
      counts: new Int32Array(5), attempt: 0,
    };
    job.counts[TaskCode.pending] = total;
    this.jobs.set(job.id, job);
    for (const g of groupList) {
      for (let i = 0; i < g.count; i++) {
        const node = placedOn(`${job.id}/${g.name}/${i}`);
        if (node !== undefined) this.setTask(job, g.offset + i, TaskCode.placed, node);
      }
    }
    // Placed before the job was read: placed when its last task was committed (a pure function of the log).
    const early = this.earlyPlacedAt.get(job.id);
    this.earlyPlacedAt.delete(job.id);
    if (job.counts[TaskCode.pending] === 0 && total > 0) job.placedAt = early ?? submittedAt;
    const earlyOutcome = this.earlyOutcomes.get(job.id);
    if (earlyOutcome !== undefined) {
      this.earlyOutcomes.delete(job.id);
      job.outcome = earlyOutcome;
    }
    return job;
  }

  /** Records a job whose spec was refused: it is listed `failed` with the validation message. */
  acceptInvalid(jobId: string, tenant: string, submittedAt: number, error: string): JobEntry | undefined {
    if (this.jobs.has(jobId)) return undefined;
    const job: JobEntry = {
      id: jobId, tenant, submittedAt, groups: new Map(), groupList: [], taskState: new Uint8Array(0), taskNode: [],
      counts: new Int32Array(5), outcome: { state: 'failed', reason: error }, attempt: 0,
    };
    this.jobs.set(jobId, job);
    return job;
  }

  private setTask(job: JobEntry, slot: number, code: TaskCode, node: string | undefined): void {
    job.counts[job.taskState[slot]] -= 1;
    job.taskState[slot] = code;
    job.counts[code] += 1;
    job.taskNode[slot] = node;
  }

  /** A claim for the task was committed at `at`. */
  taskPlaced(taskId: string, nodeId: string, at: number): void {
    const t = this.task(taskId);
    if (t === undefined) {
      // The job was not read yet: remember when its tasks were committed (the last one counts).
      const p = parseTaskId(taskId);
      if (p !== undefined && !this.jobs.has(p.jobId)) this.earlyPlacedAt.set(p.jobId, Math.max(at, this.earlyPlacedAt.get(p.jobId) ?? at));
      return;
    }
    this.setTask(t.job, t.slot, TaskCode.placed, nodeId);
    t.job.life?.preempted.delete(t.slot);
    if (t.job.placedAt === undefined && t.job.counts[TaskCode.pending] === 0) t.job.placedAt = at;
  }

  /** The agent reported the task running; true when this changed its state. */
  taskRunning(taskId: string): boolean {
    const t = this.task(taskId);
    if (t === undefined || t.job.taskState[t.slot] !== TaskCode.placed) return false;
    this.setTask(t.job, t.slot, TaskCode.running, t.job.taskNode[t.slot]);
    return true;
  }

  /** The task ended on its node (its allocation was released). */
  taskEnded(taskId: string, outcome: 'succeeded' | 'failed', reason?: string): void {
    const t = this.task(taskId);
    if (t === undefined) return;
    if (outcome === 'failed' && t.job.firstFailure === undefined) t.job.firstFailure = `task ${taskId} failed${reason ? `: ${reason}` : ''}`;
    this.setTask(t.job, t.slot, outcome === 'succeeded' ? TaskCode.finished : TaskCode.failed, t.job.taskNode[t.slot]);
  }

  /**
   * The task's process failed, or its node was lost (its allocation is released either way). With
   * restarts left in its job's policy it is pending again — its restart count up by one and
   * `failure` kept as its last — otherwise it failed for good. Returns its job (undefined when
   * unknown) and whether it restarts; an ended task stays as it is (`restarted: false`).
   */
  taskFailed(taskId: string, failure: string): { job: JobEntry; restarted: boolean; restarts: number } | undefined {
    const t = this.task(taskId);
    if (t === undefined) return undefined;
    const job = t.job;
    const s = job.taskState[t.slot];
    if (s === TaskCode.finished || s === TaskCode.failed) return { job, restarted: false, restarts: job.life?.restarts[t.slot] ?? 0 };
    const life = lifeOf(job);
    life.lastFailure.set(t.slot, failure);
    if (life.restarts[t.slot] >= restartPolicyOf(job.spec).attempts) {
      job.firstFailure ??= `task ${taskId} failed: ${failure}`;
      this.setTask(job, t.slot, TaskCode.failed, job.taskNode[t.slot]);
      return { job, restarted: false, restarts: life.restarts[t.slot] };
    }
    life.restarts[t.slot] += 1;
    this.setTask(job, t.slot, TaskCode.pending, undefined);
    return { job, restarted: true, restarts: life.restarts[t.slot] };
  }

  /** Released without failing (its node was drained): pending again, its restarts unchanged. Its job, or undefined when unknown or already ended. */
  taskHandedBack(taskId: string): JobEntry | undefined {
    const t = this.task(taskId);
    if (t === undefined) return undefined;
    const s = t.job.taskState[t.slot];
    if (s === TaskCode.finished || s === TaskCode.failed) return undefined;
    this.setTask(t.job, t.slot, TaskCode.pending, undefined);
    return t.job;
  }

  /** A scheduler's verdict. Kept for later if the job is not known yet. */
  setOutcome(jobId: string, state: 'unschedulable' | 'failed', reason: string): void {
    const job = this.jobs.get(jobId);
    if (job === undefined) this.earlyOutcomes.set(jobId, { state, reason });
    else job.outcome = { state, reason };
  }

  /** Outcomes reported before their job was read, oldest first (for snapshots). */
  earlyOutcomeList(): [string, { state: 'unschedulable' | 'failed'; reason: string }][] {
    return [...this.earlyOutcomes];
  }

  /**
   * Restores one job from a snapshot: the spec rebuilds the groups, the rest is taken as saved
   * (task states and nodes, counts recomputed). Throws a RangeError on inconsistent data.
   */
  restoreJob(saved: SavedJob): JobEntry {
    if (this.jobs.has(saved.id)) throw new RangeError(`restoreJob: job ${saved.id} twice`);
    if (saved.spec !== undefined && saved.spec.id !== saved.id) throw new RangeError(`restoreJob: job ${saved.id} holds the spec of ${saved.spec.id}`);
    const { groups, groupList, total } = saved.spec === undefined ? { groups: new Map<string, GroupInfo>(), groupList: [], total: 0 } : groupsOf(saved.spec);
    if (saved.taskState.length !== total || saved.taskNode.length !== total) throw new RangeError(`restoreJob: job ${saved.id} has ${total} tasks, the snapshot ${saved.taskState.length}`);
    const counts = new Int32Array(5);
    for (let i = 0; i < total; i++) {
      const code = saved.taskState[i];
      if (code > TaskCode.failed) throw new RangeError(`restoreJob: job ${saved.id} task ${i} has state ${code}`);
      counts[code] += 1;
    }
    const job: JobEntry = {
      id: saved.id, tenant: saved.tenant, submittedAt: saved.submittedAt, ...(saved.spec !== undefined ? { spec: saved.spec } : {}), groups, groupList,
      taskState: Uint8Array.from(saved.taskState), taskNode: [...saved.taskNode], counts, attempt: saved.attempt,
    };
    if (saved.placedAt !== undefined) job.placedAt = saved.placedAt;
    if (saved.outcome !== undefined) job.outcome = saved.outcome;
    if (saved.firstFailure !== undefined) job.firstFailure = saved.firstFailure;
    this.jobs.set(job.id, job);
    return job;
  }

  /** Commit times of tasks committed before their job was read (for snapshots). */
  earlyPlacedAtList(): [string, number][] {
    return [...this.earlyPlacedAt];
  }

  /** Restores the commit time of tasks committed before their job was read. */
  restoreEarlyPlacedAt(jobId: string, at: number): void {
    this.earlyPlacedAt.set(jobId, at);
  }

  /** Restores an outcome reported before its job was read (after the jobs, so none is consumed). */
  restoreEarlyOutcome(jobId: string, outcome: { state: 'unschedulable' | 'failed'; reason: string }): void {
    this.earlyOutcomes.set(jobId, outcome);
  }

  /** Task ids of a job still pending. */
  pendingTasks(job: JobEntry): string[] {
    const out: string[] = [];
    for (const g of job.groupList) {
      for (let i = 0; i < g.count; i++) if (job.taskState[g.offset + i] === TaskCode.pending) out.push(`${job.id}/${g.name}/${i}`);
    }
    return out;
  }
}

/** A spec's task groups, each with the offset of its first task in the job's task arrays. */
function groupsOf(spec: JobSpec): { groups: Map<string, GroupInfo>; groupList: GroupInfo[]; total: number } {
  const groups = new Map<string, GroupInfo>();
  const groupList: GroupInfo[] = [];
  let total = 0;
  for (const g of spec.tasks) {
    if (typeof g.name !== 'string' || !Number.isInteger(g.count) || g.count < 0) throw new RangeError(`job ${spec.id}: bad task group`);
    const info: GroupInfo = { name: g.name, offset: total, count: g.count, resources: g.resources, durationS: g.duration_s, command: g.command };
    groups.set(g.name, info);
    groupList.push(info);
    total += g.count;
  }
  return { groups, groupList, total };
}

/**
 * A job's state from its tasks. A scheduler's verdict (or a validation failure) wins until every
 * task ended; all ended → finished, or failed if any failed; otherwise running once a task runs or
 * ended, placed when none is pending, else pending.
 */
export function jobStateOf(job: JobEntry): JobState {
  const c = job.counts;
  const total = job.taskState.length;
  const ended = c[TaskCode.finished] + c[TaskCode.failed];
  if (total > 0 && ended === total) return c[TaskCode.failed] > 0 ? 'failed' : 'finished';
  if (job.outcome !== undefined) return job.outcome.state;
  if (c[TaskCode.running] > 0 || ended > 0) return 'running';
  if (c[TaskCode.pending] === 0) return 'placed';
  return 'pending';
}

/** The DESIGN §7 listing of one job. */
/** A job's listing; `from`/`to` pick a window of its tasks (all by default) — `taskTotal` and `taskStates` always cover all. */
export function jobListingOf(job: JobEntry, from = 0, to = Infinity): JobListing {
  const total = job.taskState.length;
  const lo = Math.min(from, total);
  const hi = Math.max(lo, Math.min(to, total));
  const tasks: JobListing['tasks'] = new Array(hi - lo);
  const counts = new Array<number>(TASK_STATE_NAMES.length).fill(0);
  for (let slot = 0; slot < total; slot++) counts[job.taskState[slot]]++;
  for (const g of job.groupList) {
    const a = Math.max(lo, g.offset), b = Math.min(hi, g.offset + g.count);
    for (let slot = a; slot < b; slot++) {
      const i = slot - g.offset;
      const node = job.taskNode[slot];
      tasks[slot - lo] = node === undefined
        ? { id: `${job.id}/${g.name}/${i}`, name: g.name, state: TASK_STATE_NAMES[job.taskState[slot]] }
        : { id: `${job.id}/${g.name}/${i}`, name: g.name, state: TASK_STATE_NAMES[job.taskState[slot]], node };
    }
  }
  if (job.life !== undefined) listTaskLife(job.life, tasks, lo);
  const taskStates: Record<string, number> = {};
  TASK_STATE_NAMES.forEach((n, i) => { if (counts[i] > 0) taskStates[n] = counts[i]; });
  const out: JobListing = { id: job.id, tenant: job.tenant, state: jobStateOf(job), submittedAt: job.submittedAt, tasks, taskTotal: total, taskStates };
  if (job.outcome !== undefined && out.state === job.outcome.state) out.reason = job.outcome.reason;
  else if (out.state === 'failed' && job.firstFailure !== undefined) out.reason = job.firstFailure;
  if (job.placedAt !== undefined) out.placedAt = job.placedAt;
  return out;
}
