/**
 * The cell-state's authoritative model and the one function that changes it: applying a
 * commit-log record. Pure (no I/O, no clock: times come from the records), so the live writer,
 * the replay at start-up and a future standby following the log all run the same code and reach
 * the same state and node versions.
 *
 * The only mutation outside `applyRecord` is the live commit path (`decideCommitBatch`), which
 * must decide a batch before it is durable; it applies exactly what its `commit` record will say,
 * and `undoCommitBatch` takes it back when the append fails.
 */
import {
  CellState, Committer, DEFAULT_CLAIM_CHECKS, DEFAULT_EVICTION_CHECKS, DUPLICATE_TASK_CHECK, preemptionPolicyCheck, quotaCheck, quotaUsageOf, restartBackoffMs,
  restartPolicyOf, retiredTaskCheck, snapshotOf, withCheck, DEFAULT_PREEMPTION_MIN_RUNTIME_S, DEFAULT_PREEMPTION_PRIORITY_GAP, type PreemptionPolicy,
  type Allocation, type Claim, type ConflictReason, type Granularity,
  type JobSpec, type NodeSnapshot, type NodeState, type ResourceSpace, type Transaction, type TxnResult,
} from '@tessera/core';
import { JobTable, type JobEntry } from './job-table.ts';
import { emptyQueueState, type QueueState } from './queues.ts';
import {
  ClaimColumns, demandsOf, GENESIS_HASH, type CommitRecord, type LifecycleRecord, type EndedRecord, type JobRecord, type LogEntry, type LogRecord,
  type LostRecord, type RegisterRecord, type RunningRecord, type StoppedRecord,
} from './log-records.ts';

export interface CellModel {
  readonly space: ResourceSpace;
  readonly cell: CellState;
  readonly committer: Committer;
  readonly jobs: JobTable;
  /** Node id → the agent that registered it (only it may speak for the node). */
  readonly owners: Map<string, string>;
  /** Task id → ms at which its claim was committed (grace before it is reported missing). */
  readonly assignedAt: Map<string, number>;
  /** Tasks handed back (node lost) before their job was read from the jobs stream. */
  readonly orphanReturns: Map<string, string[]>;
  /**
   * Node id → victims of preemption evicted there whose stop the agent has not confirmed yet
   * (DESIGN §11). They are handed back only once stopped (never two copies at once), and the
   * node's new assignments wait for them.
   */
  readonly stopping: Map<string, Set<string>>;
  /** Draining node id → ms by which its tasks are handed back (from its `drain` record). */
  readonly drainDeadlines: Map<string, number>;
  /** Sequence of the last log entry applied (0: none). */
  lastSeq: number;
  /**
   * Chain hash of the entry at `lastSeq` (the next entry's `prev`); GENESIS_HASH before the first.
   * Undefined after a snapshot of a version without it, until that entry is read again.
   */
  lastHash: Uint8Array | undefined;
  /** A hash-chained entry was applied: from then on an unchained (version 1) entry is refused. */
  chained: boolean;
  /** Resource names fixed by the log's `cell` record, once seen. */
  logResources?: readonly string[];
  /** The queue file in force (kept in the config bucket, not in the log). */
  readonly queues: QueueState;
}

export interface ModelOptions {
  readonly partitions: number;
  readonly granularity: Granularity;
  readonly changeLogLimit?: number;
  readonly dedupLimit?: number;
  /** The committer's preemption rules (DESIGN §11) and its clock; default gap 10, min runtime 30 s, Date.now. */
  readonly preemption?: PreemptionPolicy;
  readonly now?: () => number;
}

export function createModel(space: ResourceSpace, opts: ModelOptions): CellModel {
  const cell = new CellState(space, opts.partitions, { changeLogLimit: opts.changeLogLimit });
  const jobs = new JobTable();
  // A task that already ran to its end is refused like a placed one: its allocation is gone, and
  // without this check a redelivered job would run it a second time.
  const queues = emptyQueueState();
  // Quota last: a claim that cannot fit its node is counted under that reason, not under quota.
  const checks = withCheck(withCheck(DEFAULT_CLAIM_CHECKS, retiredTaskCheck((taskId) => jobs.isTaskEnded(taskId)), DUPLICATE_TASK_CHECK), quotaCheck(() => queues.tree));
  const assignedAt = new Map<string, number>();
  const evictionChecks = [...DEFAULT_EVICTION_CHECKS, preemptionPolicyCheck({
    policy: opts.preemption ?? { priorityGap: DEFAULT_PREEMPTION_PRIORITY_GAP, minRuntimeMs: DEFAULT_PREEMPTION_MIN_RUNTIME_S * 1000 },
    now: opts.now ?? Date.now,
    priorityOf: (jobId) => jobs.get(jobId)?.spec?.priority,
    startedAt: (taskId) => assignedAt.get(taskId),
    gangOf: (jobId) => jobs.get(jobId)?.spec?.gang === true,
    // Reclaim is judged on the committer's own usage and the queue file in force.
    quota: () => quotaUsageOf(queues.tree, cell.queueAllocated(), cell.totals().capacity),
  })];
  return {
    space, cell, jobs, queues,
    committer: new Committer(cell, { granularity: opts.granularity, dedupLimit: opts.dedupLimit, checks, evictionChecks }),
    owners: new Map(), assignedAt, orphanReturns: new Map(), stopping: new Map(), drainDeadlines: new Map(), lastSeq: 0, lastHash: GENESIS_HASH, chained: false,
  };
}

/** Tasks of one job handed back for rescheduling. */
export interface Requeue {
  readonly jobId: string;
  readonly tasks: readonly string[];
  readonly attempt: number;
  readonly spec: JobSpec;
  readonly submittedAt: number;
  /** Restart backoff: the schedulers place these tasks no earlier (ms, the log's clock). */
  readonly notBefore?: number;
}

/** What applying records asks the shell to do (publish assignments, hand jobs back, …). */
export interface ApplyEffects {
  /** Claims committed (assignments to publish to their agents). */
  readonly committed: Allocation[];
  readonly requeues: Requeue[];
  /** Nodes (re-)registered: their liveness clock starts now. */
  readonly registered: string[];
  /** Nodes marked lost. */
  readonly lost: string[];
  /** Jobs newly accepted (deferred assignments of theirs can go out). */
  readonly jobsAccepted: string[];
  /** Records that could not be applied as they are (corrupt or inconsistent log); logged by the shell. */
  readonly anomalies: string[];
  /** Allocations released by transactions' evictions (their tasks are to be stopped on their agents). */
  readonly evicted: Allocation[];
  /** Nodes whose last victim's stop was confirmed (their waiting assignments may go out). */
  readonly unblocked: string[];
}

export function emptyEffects(): ApplyEffects {
  return { committed: [], requeues: [], registered: [], lost: [], jobsAccepted: [], anomalies: [], evicted: [], unblocked: [] };
}

/** The per-record answer a live request waits for. */
export type RecordResult =
  | { readonly t: 'register'; readonly registered: number }
  | { readonly t: 'ended'; readonly released: number }
  | { readonly t: 'running'; readonly running: number }
  | { readonly t: 'job'; readonly accepted: boolean }
  | { readonly t: 'other' };

/** Thrown (at start-up only) when the log was written for other resource names. */
export class LogMismatchError extends Error {
  override readonly name = 'LogMismatchError';
}

/** Applies every record of a stored entry at log sequence `seq` (replay, catch-up, standby). */
export function applyEntry(model: CellModel, entry: LogEntry, seq: number, effects: ApplyEffects = emptyEffects()): ApplyEffects {
  for (const r of entry.records) applyRecord(model, r, entry.at, seq, effects);
  model.lastSeq = seq;
  return effects;
}

/** Applies one record. Total: inconsistent input is skipped and reported in `effects.anomalies`. */
export function applyRecord(model: CellModel, r: LogRecord, at: number, seq: number, effects: ApplyEffects): RecordResult {
  switch (r.t) {
    case 'cell':
      if (model.logResources === undefined) model.logResources = r.resources;
      if (r.resources.join(',') !== model.space.names.join(',')) {
        throw new LogMismatchError(`the commit log was written for resources ${r.resources.join(',')}, this cell-state runs with ${model.space.names.join(',')}`);
      }
      return { t: 'other' };
    case 'register':
      return applyRegister(model, r, effects);
    case 'lost':
      applyLost(model, r, at, effects);
      return { t: 'other' };
    case 'ended':
      return applyEnded(model, r, at, effects);
    case 'running':
      return applyRunning(model, r);
    case 'stopped':
      applyStopped(model, r, at, effects);
      return { t: 'other' };
    case 'job':
      return applyJob(model, r, effects);
    case 'outcome':
      model.jobs.setOutcome(r.jobId, r.state, r.reason);
      return { t: 'other' };
    case 'commit':
      applyCommitRecord(model, r, at, seq, effects);
      return { t: 'other' };
    case 'leader':
      return { t: 'other' };
    case 'lifecycle':
      applyLifecycle(model, r, at, effects);
      return { t: 'other' };
  }
}

/** May `agent` (re-)register node `nodeId`? Yes unless another agent owns it and it is not lost. */
export function mayRegister(model: CellModel, agent: string, nodeId: string): boolean {
  const owner = model.owners.get(nodeId);
  if (owner === undefined || owner === agent) return true;
  return model.cell.node(nodeId)?.condition === 'lost';
}

function applyRegister(model: CellModel, r: RegisterRecord, effects: ApplyEffects): RecordResult {
  let registered = 0;
  for (const n of r.nodes) {
    if (!mayRegister(model, r.agent, n.id)) {
      effects.anomalies.push(`register: node ${n.id} belongs to agent ${model.owners.get(n.id)}, not ${r.agent}`);
      continue;
    }
    if (n.capacity.length !== model.space.size) {
      effects.anomalies.push(`register: node ${n.id} has ${n.capacity.length} capacities, the cell has ${model.space.size} resources`);
      continue;
    }
    model.cell.upsertNode({ id: n.id, labels: n.labels, capacity: Float64Array.from(n.capacity) });
    model.owners.set(n.id, r.agent);
    effects.registered.push(n.id);
    registered++;
  }
  return { t: 'register', registered };
}

/** Tasks of known jobs to hand back, by job, with the latest restart backoff among them. */
type HandBacks = Map<string, { tasks: string[]; notBefore: number }>;

function handBack(into: HandBacks, jobId: string, taskId: string, notBefore: number): void {
  const h = into.get(jobId);
  if (h === undefined) into.set(jobId, { tasks: [taskId], notBefore });
  else {
    h.tasks.push(taskId);
    if (notBefore > h.notBefore) h.notBefore = notBefore;
  }
}

/** One hand-back (requeue) per job: the road back of lost, failed and (later) preempted tasks. */
function requeueAll(model: CellModel, byJob: HandBacks, at: number, effects: ApplyEffects): void {
  for (const [jobId, h] of byJob) {
    const job = model.jobs.get(jobId)!;
    job.attempt += 1;
    let tasks = h.tasks;
    if (job.outcome?.state === 'unschedulable') {
      // A handed-back job is no longer unschedulable: a scheduler will try it again. The verdict
      // also covered the tasks never placed; without it nobody would try or report them again,
      // so they are handed back too (every pending task of the job, released ones included).
      job.outcome = undefined;
      tasks = model.jobs.pendingTasks(job).filter((t) => !isStopping(model, t));
    }
    if (job.spec === undefined) continue;
    const r: Requeue = { jobId, tasks, attempt: job.attempt, spec: job.spec, submittedAt: job.submittedAt };
    effects.requeues.push(h.notBefore > at ? { ...r, notBefore: h.notBefore } : r);
  }
}

/**
 * cordon: a ready node takes no new placements; uncordon: an administrative state back to ready;
 * drain: not lost → draining until its deadline; drained: a draining node's remaining tasks are
 * released and handed back, and it ends drained. A lost node stays lost (its tasks are gone already).
 */
function applyLifecycle(model: CellModel, r: LifecycleRecord, at: number, effects: ApplyEffects): void {
  const drained: string[] = [];
  for (const nodeId of r.nodes) {
    const n = model.cell.node(nodeId);
    if (n === undefined || n.condition === 'lost') continue;
    switch (r.op) {
      case 'cordon':
        if (n.condition === 'ready') model.cell.setCondition(nodeId, 'cordoned');
        break;
      case 'uncordon':
        model.cell.setCondition(nodeId, 'ready');
        model.drainDeadlines.delete(nodeId);
        break;
      case 'drain':
        if (n.condition === 'drained') break;
        model.cell.setCondition(nodeId, 'draining');
        model.drainDeadlines.set(nodeId, r.deadline ?? at);
        break;
      case 'drained':
        if (n.condition !== 'draining') break;
        model.cell.setCondition(nodeId, 'drained');
        model.drainDeadlines.delete(nodeId);
        drained.push(nodeId);
        break;
    }
  }
  handBackDrained(model, drained, at, effects);
}

/** A drained node's tasks: released and pending again (not a failure: restarts are not counted), handed back per job. */
function handBackDrained(model: CellModel, nodeIds: readonly string[], at: number, effects: ApplyEffects): void {
  const byJob: HandBacks = new Map();
  for (const nodeId of nodeIds) {
    for (const a of model.cell.releaseNode(nodeId)) {
      model.assignedAt.delete(a.taskId);
      const job = model.jobs.taskHandedBack(a.taskId);
      if (job !== undefined) { handBack(byJob, job.id, a.taskId, at); continue; }
      const list = model.orphanReturns.get(a.jobId);
      if (list === undefined) model.orphanReturns.set(a.jobId, [a.taskId]);
      else list.push(a.taskId);
    }
  }
  requeueAll(model, byJob, at, effects);
}

/** A released task that failed (process or node): handed back if its job's restart policy allows. */
function restartOrFail(model: CellModel, byJob: HandBacks, taskId: string, failure: string, at: number): boolean {
  const f = model.jobs.taskFailed(taskId, failure);
  if (f === undefined) return false;
  if (f.restarted) handBack(byJob, f.job.id, taskId, at + restartBackoffMs(restartPolicyOf(f.job.spec), f.restarts));
  return true;
}

function applyLost(model: CellModel, r: LostRecord, at: number, effects: ApplyEffects): void {
  const byJob: HandBacks = new Map();
  for (const nodeId of r.nodes) {
    const n = model.cell.node(nodeId);
    if (n === undefined || n.condition === 'lost') continue;
    model.cell.setCondition(nodeId, 'lost');
    model.drainDeadlines.delete(nodeId);
    effects.lost.push(nodeId);
    // Victims evicted there are gone with the node: nothing runs them any more.
    const victims = model.stopping.get(nodeId);
    model.stopping.delete(nodeId);
    for (const taskId of victims ?? []) {
      const job = model.jobs.task(taskId)?.job;
      if (job !== undefined) handBack(byJob, job.id, taskId, at);
    }
    for (const a of model.cell.releaseNode(nodeId)) {
      model.assignedAt.delete(a.taskId);
      if (restartOrFail(model, byJob, a.taskId, `node ${nodeId} lost`, at)) continue;
      // Committed before its job was read: hand it back once the job is known.
      const list = model.orphanReturns.get(a.jobId);
      if (list === undefined) model.orphanReturns.set(a.jobId, [a.taskId]);
      else list.push(a.taskId);
    }
  }
  requeueAll(model, byJob, at, effects);
}

function applyEnded(model: CellModel, r: EndedRecord, at: number, effects: ApplyEffects): RecordResult {
  let released = 0;
  const byJob: HandBacks = new Map();
  for (const t of r.tasks) {
    if (model.owners.get(t.nodeId) !== r.agent) continue;
    const a = model.cell.allocationOf(t.taskId);
    if (a === undefined || a.nodeId !== t.nodeId) continue;
    model.cell.release(t.taskId);
    model.assignedAt.delete(t.taskId);
    if (t.outcome === 'failed') restartOrFail(model, byJob, t.taskId, t.reason ?? 'the process failed', at);
    else model.jobs.taskEnded(t.taskId, t.outcome, t.reason);
    released++;
  }
  requeueAll(model, byJob, at, effects);
  return { t: 'ended', released };
}

/** True while `taskId` is a victim whose stop its agent has not confirmed. */
export function isStopping(model: CellModel, taskId: string): boolean {
  for (const set of model.stopping.values()) if (set.has(taskId)) return true;
  return false;
}

/**
 * Victims of committed evictions (live after the ack, and replay): pending again with reason
 * `preempted`, and waiting for their agent to confirm the stop before they are handed back.
 */
export function settleEvicted(model: CellModel, evicted: readonly Allocation[]): void {
  for (const a of evicted) {
    model.jobs.taskPreempted(a.taskId);
    let set = model.stopping.get(a.nodeId);
    if (set === undefined) model.stopping.set(a.nodeId, (set = new Set()));
    set.add(a.taskId);
  }
}

/** Confirmed stops: each victim is handed back once (the same road as lost and failed tasks). */
function applyStopped(model: CellModel, r: StoppedRecord, at: number, effects: ApplyEffects): void {
  const byJob: HandBacks = new Map();
  for (const t of r.tasks) {
    if (model.owners.get(t.nodeId) !== r.agent) continue;
    const set = model.stopping.get(t.nodeId);
    if (set === undefined || !set.delete(t.taskId)) continue;
    if (set.size === 0) {
      model.stopping.delete(t.nodeId);
      effects.unblocked.push(t.nodeId);
    }
    const job = model.jobs.task(t.taskId)?.job;
    if (job !== undefined) handBack(byJob, job.id, t.taskId, at);
  }
  requeueAll(model, byJob, at, effects);
}

function applyRunning(model: CellModel, r: RunningRecord): RecordResult {
  let running = 0;
  for (const t of r.tasks) {
    if (model.owners.get(t.nodeId) !== r.agent) continue;
    const a = model.cell.allocationOf(t.taskId);
    if (a === undefined || a.nodeId !== t.nodeId) continue;
    if (model.jobs.taskRunning(t.taskId)) running++;
  }
  return { t: 'running', running };
}

function applyJob(model: CellModel, r: JobRecord, effects: ApplyEffects): RecordResult {
  if (model.jobs.has(r.id)) return { t: 'job', accepted: false };
  if (r.spec === undefined) {
    model.jobs.acceptInvalid(r.id, r.tenant, r.submittedAt, r.error ?? 'invalid job spec');
    effects.jobsAccepted.push(r.id);
    return { t: 'job', accepted: true };
  }
  const spec = r.spec as unknown as JobSpec;
  const job = model.jobs.accept(spec, r.submittedAt, (taskId) => model.cell.allocationOf(taskId)?.nodeId);
  if (job === undefined) return { t: 'job', accepted: false };
  effects.jobsAccepted.push(r.id);
  const orphans = model.orphanReturns.get(r.id);
  if (orphans !== undefined) {
    model.orphanReturns.delete(r.id);
    // Those tasks were released while the job was unknown: they are pending (not placed) now,
    // and nobody else will hand them back.
    job.attempt += 1;
    const pending = orphans.filter((t) => model.cell.allocationOf(t) === undefined);
    if (pending.length > 0) effects.requeues.push({ jobId: r.id, tasks: pending, attempt: job.attempt, spec, submittedAt: r.submittedAt });
  }
  return { t: 'job', accepted: true };
}

/** The job table's and liveness bookkeeping of committed claims (live after the ack, and replay). */
export function settleCommitted(model: CellModel, committed: readonly Allocation[], at: number): void {
  for (const a of committed) {
    model.assignedAt.set(a.taskId, at);
    model.jobs.taskPlaced(a.taskId, a.nodeId, at);
  }
}

function applyCommitRecord(model: CellModel, r: CommitRecord, at: number, seq: number, effects: ApplyEffects): void {
  const demands = demandsOf(r.demand, r.task.length, model.space.size);
  if (demands === undefined) {
    effects.anomalies.push(`commit: demand bytes do not hold ${r.task.length}×${model.space.size} floats; record skipped`);
    return;
  }
  const cell = model.cell;
  const pre = r.pre === undefined ? undefined : new Set(r.pre);
  const dev = r.dev === undefined ? undefined : new Map(r.dev.map((d) => [d[0], d.slice(1)]));
  const committedNow: Allocation[] = [];
  const evictedNow: Allocation[] = [];
  let c = 0;
  for (const t of r.txns) {
    const claims: Claim[] = [];
    const touched = new Set<NodeState>();
    const evicted = t.ev === undefined ? undefined : releaseEvicted(model, t.ev, effects);
    for (const a of evicted ?? []) {
      touched.add(cell.node(a.nodeId)!);
      evictedNow.push(a);
    }
    for (let k = 0; k < t.n; k++, c++) {
      const taskId = r.task[c];
      const nodeId = r.node[c];
      const node = cell.node(nodeId);
      if (node === undefined || cell.allocationOf(taskId) !== undefined) {
        effects.anomalies.push(`commit: claim of ${taskId} on ${nodeId} cannot be applied (${node === undefined ? 'unknown node' : 'task already placed'})`);
        continue;
      }
      const queue = r.queue?.[c];
      const devices = dev?.get(c);
      const claim: Claim = devices === undefined
        ? { taskId, jobId: r.job[c], nodeId, demand: demands[c], seenVersion: 0 }
        : { taskId, jobId: r.job[c], nodeId, demand: demands[c], seenVersion: 0, devices };
      claims.push(queue === undefined || queue === '' ? (pre?.has(c) ? { ...claim, preemptible: true } : claim) : { ...claim, queue, ...(pre?.has(c) ? { preemptible: true } : {}) });
    }
    // Applied as logged, never re-validated: the log says what was committed.
    cell.applyClaims(claims, seq);
    const committed: string[] = [];
    for (const cl of claims) {
      committed.push(cl.taskId);
      const a = cell.allocationOf(cl.taskId)!;
      committedNow.push(a);
      touched.add(cell.node(cl.nodeId)!);
    }
    const rejected = (t.rej ?? []).map(([taskId, nodeId, reason]) => {
      const n = cell.node(nodeId);
      if (n !== undefined) touched.add(n);
      return { taskId, nodeId, reason: reason as ConflictReason };
    });
    const nodes: NodeSnapshot[] = [];
    for (const n of touched) nodes.push(snapshotOf(n));
    const result: TxnResult = { txnId: t.id, committed, rejected, nodes, seq };
    model.committer.remember(evicted === undefined ? result : { ...result, evicted: evicted.map((a) => a.taskId) });
  }
  settleCommitted(model, committedNow, at);
  for (const a of committedNow) effects.committed.push(a);
  if (evictedNow.length > 0) settleEvicted(model, evictedNow);
}

/** Releases the tasks a logged transaction evicted (replay); a task no longer placed is an anomaly. */
function releaseEvicted(model: CellModel, taskIds: readonly string[], effects: ApplyEffects): Allocation[] {
  const out: Allocation[] = [];
  for (const id of taskIds) {
    const a = model.cell.release(id);
    if (a === undefined) {
      effects.anomalies.push(`commit: evicted task ${id} is not placed`);
      continue;
    }
    model.assignedAt.delete(id);
    out.push(a);
    effects.evicted.push(a);
  }
  return out;
}

// ---- the live commit path ----------------------------------------------------------------------

/** A batch decided (and applied) but not yet durable. */
export interface DecidedBatch {
  /** One result per transaction, in order (replays included). */
  readonly results: TxnResult[];
  /** The record to append; undefined when every transaction was a replay. */
  readonly record: CommitRecord | undefined;
  /** Claims committed by this batch, in order. */
  readonly committed: Allocation[];
  /** Ids of the transactions decided now (not replays), whose outcomes are remembered. */
  readonly decidedTxnIds: string[];
  /** Allocations released by the batch's evictions, in order (re-booked by undoCommitBatch). */
  readonly evicted: Allocation[];
}

/**
 * Decides a batch with the core Committer at log position `seq` (the sequence the append will
 * get), applying committed claims so later transactions of the batch see them, and builds the
 * batch's commit record. Cost: validateTxn + applyClaims per claim, one node snapshot per
 * touched node per transaction, and per committed claim three pushes and `dims` float writes.
 */
export function decideCommitBatch(model: CellModel, txns: readonly Transaction[], seq: number): DecidedBatch {
  const results: TxnResult[] = new Array(txns.length);
  const committed: Allocation[] = [];
  const decidedTxnIds: string[] = [];
  const evicted: Allocation[] = [];
  const recTxns: CommitRecord['txns'] = [];
  const cols = new ClaimColumns(model.space.size, txns.length);
  for (let i = 0; i < txns.length; i++) {
    const victims = txns[i].evictions === undefined ? undefined : txns[i].evictions!.map((e) => model.cell.allocationOf(e?.taskId));
    const r = model.committer.commit(txns[i], seq);
    results[i] = r;
    if (r.replayed) continue;
    decidedTxnIds.push(r.txnId);
    if (r.evicted !== undefined) {
      for (const a of victims!) if (a !== undefined && r.evicted.includes(a.taskId)) evicted.push(a);
      for (const id of r.evicted) model.assignedAt.delete(id);
    }
    for (const taskId of r.committed) {
      const a = model.cell.allocationOf(taskId)!;
      committed.push(a);
      cols.push(a.taskId, a.jobId, a.nodeId, a.demand, a.queue, a.preemptible);
      if (a.devices !== undefined) cols.devices(a.devices);
    }
    const rec: CommitRecord['txns'][number] = r.rejected.length === 0
      ? { id: r.txnId, n: r.committed.length }
      : { id: r.txnId, n: r.committed.length, rej: r.rejected.map((x) => [x.taskId, x.nodeId, x.reason] as [string, string, ConflictReason]) };
    recTxns.push(r.evicted === undefined ? rec : { ...rec, ev: [...r.evicted] });
  }
  const record: CommitRecord | undefined = recTxns.length === 0
    ? undefined
    : {
      t: 'commit', txns: recTxns, task: cols.task, job: cols.job, node: cols.node, demand: cols.demandBytes(),
      ...(cols.queue === undefined ? {} : { queue: cols.queue }), ...(cols.pre === undefined ? {} : { pre: cols.pre }),
      ...(cols.dev === undefined ? {} : { dev: cols.dev }),
    };
  return { results, record, committed, decidedTxnIds, evicted };
}

/**
 * Takes back a decided batch whose append failed: its claims are released, its evicted tasks
 * booked again where they were, its outcomes forgotten.
 */
export function undoCommitBatch(model: CellModel, batch: DecidedBatch): void {
  for (let i = batch.committed.length - 1; i >= 0; i--) model.cell.release(batch.committed[i].taskId);
  for (const a of batch.evicted) model.cell.applyClaims([{ taskId: a.taskId, jobId: a.jobId, nodeId: a.nodeId, demand: a.demand, seenVersion: 0 }], a.committedAt);
  for (const id of batch.decidedTxnIds) model.committer.forget(id);
}

/** Jobs with tasks handed back and still pending (to publish again after a restart). */
export function pendingRequeues(model: CellModel): Requeue[] {
  const out: Requeue[] = [];
  for (const job of model.jobs.entries()) {
    if (job.attempt === 0 || job.spec === undefined || job.outcome !== undefined) continue;
    const tasks = model.jobs.pendingTasks(job).filter((t) => !isStopping(model, t));
    if (tasks.length > 0) out.push({ jobId: job.id, tasks, attempt: job.attempt, spec: job.spec, submittedAt: job.submittedAt });
  }
  return out;
}

export type { JobEntry };
