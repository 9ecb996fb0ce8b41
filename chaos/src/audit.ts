/**
 * The invariant audit of a commit log (DESIGN §5), pure: fed the stored entries in order, it
 * rebuilds the cell with the cell-state's own `decodeEntry` / `applyRecord` (never a
 * re-implementation) and checks, record by record:
 *  - over-commit (§5.1): after every record that adds to a node (a commit) or changes its
 *    capacity (a registration), allocated ≤ capacity on every resource. Allocations only grow
 *    inside a commit record, so checking after the record covers every node version it created.
 *  - duplicate placement (§5.2): a claim committed for a task that is still allocated (no
 *    release in between), or for a task that already ran to its end.
 * At the end, `auditJobs` checks every acknowledged job against the rebuilt job table.
 */
import { ResourceSpace } from '@tessera/core';
import {
  applyRecord, createModel, decodeEntry, emptyEffects, jobListingOf, jobStateOf, TaskCode,
  type CellModel, type LogEntry,
} from '@tessera/cell-state';
import type { JobListing } from '@tessera/protocol';

export interface Duplicate {
  readonly seq: number;
  readonly taskId: string;
  readonly nodeId: string;
  /** `still-placed`: committed while allocated elsewhere (or on the same node); `after-end`: the task had already ended. */
  readonly kind: 'still-placed' | 'after-end';
  readonly placedOn?: string;
}

export interface Overcommit {
  readonly seq: number;
  readonly nodeId: string;
  readonly version: number;
  readonly resource: string;
  readonly allocated: number;
  readonly capacity: number;
}

export interface AuditOptions {
  /** The cell-state's partition count: node versions are partition versions, so it must match to name them right. */
  readonly partitions: number;
}

export class LogAudit {
  private model?: CellModel;
  entries = 0;
  records = 0;
  /** Transactions with at least one committed claim. */
  transactions = 0;
  /** Transactions decided (committed or not). */
  decided = 0;
  claims = 0;
  lastSeq = 0;
  readonly duplicates: Duplicate[] = [];
  readonly overcommits: Overcommit[] = [];
  /** Entries or records that did not decode (the cell-state skips them too). */
  readonly unreadable: { seq: number; message: string }[] = [];
  /** What applyRecord could not apply as logged (e.g. the claim of a task already placed). */
  readonly anomalies: { seq: number; message: string }[] = [];
  /** `at` (writer's clock, ms) of every entry that committed at least one claim, in log order. */
  readonly commitTimes: number[] = [];
  /** Writers seen, in order of first appearance. */
  readonly writers: string[] = [];
  private readonly overcommitted = new Set<string>();

  constructor(private readonly opts: AuditOptions) {}

  /** The rebuilt state (after the `cell` record was seen). */
  get state(): CellModel | undefined {
    return this.model;
  }

  /** Decodes and applies one stored entry. */
  applyBytes(seq: number, bytes: Uint8Array): void {
    const d = decodeEntry(bytes);
    if (!d.ok) {
      this.unreadable.push({ seq, message: d.problem.message });
      this.lastSeq = seq;
      return;
    }
    for (const p of d.problems) this.unreadable.push({ seq, message: p.message });
    this.apply(seq, d.entry);
  }

  apply(seq: number, entry: LogEntry): void {
    this.entries++;
    if (!this.writers.includes(entry.writer)) this.writers.push(entry.writer);
    let committedHere = 0;
    for (const r of entry.records) {
      this.records++;
      if (r.t === 'cell' && this.model === undefined) this.model = createModel(ResourceSpace.of(r.resources), { partitions: this.opts.partitions, granularity: 'fine' });
      const model = this.model;
      if (model === undefined) {
        // A leader's fencing entry may come first (it names no resources and changes no state).
        if (r.t !== 'leader') this.anomalies.push({ seq, message: `${r.t} record before the cell record` });
        continue;
      }
      if (r.t === 'commit') {
        const inRecord = new Set<string>();
        for (let i = 0; i < r.task.length; i++) {
          const taskId = r.task[i];
          const nodeId = r.node[i];
          const a = model.cell.allocationOf(taskId);
          if (a !== undefined || inRecord.has(taskId)) this.duplicates.push({ seq, taskId, nodeId, kind: 'still-placed', placedOn: a?.nodeId ?? nodeId });
          else if (model.jobs.isTaskEnded(taskId)) this.duplicates.push({ seq, taskId, nodeId, kind: 'after-end' });
          inRecord.add(taskId);
        }
        for (const t of r.txns) {
          this.decided++;
          if (t.n > 0) this.transactions++;
        }
        this.claims += r.task.length;
        committedHere += r.task.length;
      }
      const effects = emptyEffects();
      applyRecord(model, r, entry.at, seq, effects);
      for (const a of effects.anomalies) this.anomalies.push({ seq, message: a });
      if (r.t === 'commit') this.checkNodes(seq, new Set(r.node));
      else if (r.t === 'register') this.checkNodes(seq, new Set(r.nodes.map((n) => n.id)));
    }
    if (this.model !== undefined) this.model.lastSeq = seq;
    this.lastSeq = seq;
    if (committedHere > 0) this.commitTimes.push(entry.at);
  }

  private checkNodes(seq: number, ids: Iterable<string>): void {
    const model = this.model!;
    const names = model.space.names;
    for (const id of ids) {
      const n = model.cell.node(id);
      if (n === undefined) continue;
      for (let i = 0; i < names.length; i++) {
        if (n.allocated[i] <= n.capacity[i]) continue;
        const key = `${id}@${n.version}`;
        if (this.overcommitted.has(key)) continue;
        this.overcommitted.add(key);
        this.overcommits.push({ seq, nodeId: id, version: n.version, resource: names[i], allocated: n.allocated[i], capacity: n.capacity[i] });
      }
    }
  }
}

const TERMINAL: ReadonlySet<string> = new Set(['finished', 'failed', 'unschedulable']);
const TASK_ENDED: ReadonlySet<string> = new Set(['finished', 'failed']);

export interface LostJob {
  readonly id: string;
  readonly why: string;
}

export interface JobAudit {
  /** Jobs checked: acknowledged submissions ∪ first submissions found in the jobs stream. */
  readonly checked: number;
  readonly byState: Record<string, number>;
  readonly lost: LostJob[];
  /** Jobs with tasks still placed or running when the run ended (not lost: placed). */
  readonly unsettled: number;
  /** Tasks committed at least once, of the checked jobs' tasks. */
  readonly tasks: number;
  /** Jobs whose live listing disagrees with the one rebuilt from the log (state or a task's node). */
  readonly listingMismatches: { id: string; why: string }[];
  /** Tasks evicted at least once (preemption victims), and evictions in all. */
  readonly victims: number;
  readonly evictions: number;
  /** Victims still pending without a verdict on their job: evicted and never placed again. */
  readonly lostVictims: number;
}

/**
 * Every acknowledged job must be in the jobs stream, in the job table rebuilt from the log, and
 * either have every task placed (placed, running or ended) or carry an `unschedulable`/`failed`
 * verdict with a reason. `listing` (the serving cell-state's answer, when given) must agree.
 */
export function auditJobs(
  model: CellModel | undefined,
  acked: Iterable<string>,
  inStream: ReadonlySet<string>,
  listing?: ReadonlyMap<string, JobListing>,
): JobAudit {
  const ids = new Set<string>(acked);
  const ackedIds = new Set(ids);
  for (const id of inStream) ids.add(id);
  const lost: LostJob[] = [];
  const byState: Record<string, number> = {};
  const listingMismatches: { id: string; why: string }[] = [];
  let unsettled = 0;
  let tasks = 0;
  let victims = 0;
  let evictions = 0;
  let lostVictims = 0;
  for (const id of ids) {
    if (ackedIds.has(id) && !inStream.has(id)) {
      lost.push({ id, why: 'acknowledged but not in the jobs stream' });
      continue;
    }
    const job = model?.jobs.get(id);
    if (job === undefined) {
      lost.push({ id, why: 'in the jobs stream but not in the job table of the commit log' });
      continue;
    }
    const state = jobStateOf(job);
    byState[state] = (byState[state] ?? 0) + 1;
    const rebuilt = jobListingOf(job);
    tasks += job.taskState.length - job.counts[TaskCode.pending];
    const verdict = state === 'failed' || state === 'unschedulable';
    for (const t of rebuilt.tasks) {
      if ((t.preemptions ?? 0) === 0) continue;
      victims++;
      evictions += t.preemptions!;
      if (t.state === 'pending' && !verdict) lostVictims++;
    }
    if (state === 'failed' || state === 'unschedulable') {
      if (rebuilt.reason === undefined || rebuilt.reason === '') lost.push({ id, why: `${state} without a reason` });
    } else if (job.counts[TaskCode.pending] > 0) {
      lost.push({ id, why: `${job.counts[TaskCode.pending]} of ${job.taskState.length} tasks never placed and no verdict (state ${state})` });
    } else if (state !== 'finished') {
      unsettled++;
    }
    if (listing !== undefined) {
      // The listing is taken before the log is read: a job still moving may have moved on since,
      // but one the listing shows ended must read the same from the log — and so must its ended
      // tasks. A job given up (unschedulable, failed) can still have tasks placed or running,
      // which go on moving after the listing.
      const live = listing.get(id);
      if (live === undefined) listingMismatches.push({ id, why: 'missing from the live listing' });
      else if (TERMINAL.has(live.state) && live.state !== rebuilt.state) listingMismatches.push({ id, why: `live state ${live.state}, the log says ${rebuilt.state}` });
      else if (TERMINAL.has(live.state)) {
        const bad = live.tasks.find((t, i) => TASK_ENDED.has(t.state) && (t.node !== rebuilt.tasks[i]?.node || t.state !== rebuilt.tasks[i]?.state));
        if (bad !== undefined) listingMismatches.push({ id, why: `task ${bad.id} is ${bad.state} on ${bad.node ?? '-'} live, the log says otherwise` });
      }
    }
  }
  return { checked: ids.size, byState, lost, unsettled, tasks, listingMismatches, victims, evictions, lostVictims };
}
