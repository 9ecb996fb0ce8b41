/**
 * A deterministic discrete-event simulator of a tessera cell, in the spirit of Omega's: N
 * scheduler replicas (the real `SchedulerReplica` from @tessera/replica, each with its own
 * SchedulerView, placing with @tessera/policy), a committer (core `Committer` over a core
 * `CellState`) that group-commits every batch window, partition syncs on each replica's schedule,
 * job arrivals from a trace or a generator, and tasks that end and release after their duration.
 *
 * Model (times in ms of simulated time):
 * - Jobs wait in one shared FIFO queue; each goes to the scheduler that has been idle longest.
 *   That scheduler keeps the job until it is placed or given up (its retries, after backoff, go
 *   to the front of that scheduler's own work).
 * - A decision round of a job takes jobDecisionMs + taskDecisionMs × tasks attempted (Omega's
 *   t_job + t_task·n). Placement runs on the view as it is when the round starts; the claims reach
 *   the committer when it ends; the scheduler is busy in between, and free once it has sent them.
 * - The committer decides the transactions received in a batch window together, in arrival order,
 *   at the end of the window; answers reach the replica at once.
 * - Each replica syncs on its own schedule (sync-plan.ts in @tessera/replica); scheduler i's rounds
 *   are offset by i/N of a round so syncs are staggered in time as well as in partitions. A sync
 *   is taken as of the instant it happens (no transfer time).
 * - A committed task runs for its trace duration (capped by maxTaskDurationS) and is released.
 */
import {
  addInto,
  CellState,
  Committer,
  ConflictReason,
  fitsWith,
  SchedulerView,
  subtractInto,
  taskCount,
  type Granularity,
  type JobSpec,
  type NodeRegistration,
  type NodeState,
  type ResourceSpace,
  type TaskRequest,
  type Transaction,
  type TxnResult,
} from '@tessera/core';
import { createRng, scoreNode, type PipelineSpec, type PlacementMode, type Rng } from '@tessera/policy';
import {
  DEFAULT_RETRY_POLICY, DrfQueue, FifoQueue, withExtraUsage, QUEUE_ORDERS, placementJobOf, quotaNeed, type QueueOrder, SchedulerReplica, type JobQueue, type JobRun, type QueuedJob, type RetryPolicy,
} from '@tessera/replica';
import { DEFAULT_CLAIM_CHECKS, QueueTree, addQueueUsage, queuePrefixes, quotaCheck, quotaUsageOf, withCheck, type ResourceVector } from '@tessera/core';
import { EventQueue } from './event-queue.ts';
import { nodeViolations } from './invariants.ts';
import { PreemptionBook, withPreemptionPostFilter, type PreemptionStats, type SimPreemptionOptions } from './preemption.ts';
import { Samples } from './samples.ts';

/** One arrival: a job and when it is submitted (seconds of simulated time). */
export interface SimJob {
  readonly submitS: number;
  readonly job: JobSpec;
  /** Per-instance run times (google2011): group → seconds by task index; null = unknown. */
  readonly taskDurationsS?: Readonly<Record<string, readonly (number | null)[]>>;
}

export interface SimConfig {
  readonly schedulers: number;
  readonly partitions: number;
  /** G: every partition of a view is refreshed once per G (see @tessera/replica sync-plan.ts). */
  readonly syncIntervalMs: number;
  readonly mode: PlacementMode;
  readonly granularity: Granularity;
  readonly seed: number | string;
  /** Shorthand for the default pipeline; also the scorer placement quality is judged by. */
  readonly scorer: string;
  /** The placement pipeline (overrides `scorer` for placing). */
  readonly pipeline?: PipelineSpec;
  /** How queued jobs are ordered for dispatch: arrival order, or DRF across queues by the committer's usage. */
  readonly queueOrder: QueueOrder;
  /** The queue tree DRF orders by (default: every job's queue a top-level queue of weight 1). */
  readonly queues?: QueueTree;
  readonly sampleSize: number;
  /** t_job: fixed cost of one decision round (ms). */
  readonly jobDecisionMs: number;
  /** t_task: cost per task attempted in a round (ms). */
  readonly taskDecisionMs: number;
  /** Latency-first's fallback bound (ms); undefined: the replica's default max(G/4, G/P). */
  readonly lfMaxStalenessMs?: number;
  /** A round places at most this many tasks of a non-gang job; the rest follow in later rounds. */
  readonly maxTasksPerRound: number;
  /** The committer decides what arrived in this window together (0: at the instant it arrives). */
  readonly batchWindowMs: number;
  readonly retry: Partial<RetryPolicy>;
  readonly adaptiveThresholdMs: number;
  /** Stop admitting arrivals once this many tasks were submitted. */
  readonly maxTasks: number;
  /** Stop admitting arrivals submitted after this (s). */
  readonly arrivalWindowS: number;
  /** Jobs submitted before this (s) warm the cell up and are left out of the figures. */
  readonly warmupS: number;
  /** Run time of tasks the trace has none for (s). */
  readonly defaultTaskDurationS: number;
  /** Run times are capped at this (s). */
  readonly maxTaskDurationS: number;
  /** Nodes sampled (besides the chosen one) to judge each committed placement's quality. */
  readonly qualitySample: number;
  /** When > 0, per-bucket figures by submit time (s) in `timeline`. */
  readonly timelineBucketS: number;
  /** Change-log entries per partition (core default 4096). */
  readonly changeLogLimit?: number;
  /**
   * DESIGN §11 preemption (preemption.ts): the replicas' pipelines get the `preemption`
   * post-filter with these args, syncs carry each node's running tasks, the committer checks
   * evictions as cell-state does, and victims go back to be placed again. Absent: off.
   */
  readonly preemption?: SimPreemptionOptions;
  /** When set, delays are also split by class: production (priority ≥ this) and batch (below). */
  readonly productionPriority?: number;
}

/**
 * Defaults. Decision times follow Omega's model (t_job + t_task·n) with values for a fast
 * scheduler: Omega's paper used t_job = 0.1 s and t_task = 5 ms, with which one scheduler cannot
 * keep up with the ~600 tasks/s alibaba2017 offers its 1,313-machine cell at 80% load. tessera's
 * own placement measures 20–80 µs per task on this machine, so t_task = 0.1 ms and t_job = 5 ms per
 * round (rounds of at most 200 tasks) are realistic and leave scheduler throughput out of the way
 * of the comparison, which is about staleness and conflicts. Jobs that find no room wait for it
 * (maxWaitMs = ∞, as batch jobs do in Nomad's blocked evaluations). Quality compares against 8
 * random nodes per placement.
 */
export const DEFAULT_SIM_CONFIG: SimConfig = Object.freeze({
  schedulers: 8,
  partitions: 16,
  syncIntervalMs: 1000,
  mode: 'latency-first',
  granularity: 'fine',
  seed: 1,
  scorer: 'binpack',
  queueOrder: 'fifo',
  sampleSize: 16,
  jobDecisionMs: 5,
  taskDecisionMs: 0.1,
  maxTasksPerRound: 200,
  batchWindowMs: 2,
  retry: Object.freeze({ maxWaitMs: Infinity }),
  adaptiveThresholdMs: 1500,
  maxTasks: Infinity,
  arrivalWindowS: Infinity,
  warmupS: 0,
  defaultTaskDurationS: 60,
  maxTaskDurationS: Infinity,
  qualitySample: 8,
  timelineBucketS: 0,
});

export function checkSimConfig(c: SimConfig): void {
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  const nonNeg = (name: string, v: number) => {
    if (!(v >= 0)) throw new RangeError(`${name} must be a number ≥ 0, got ${v}`);
  };
  int('schedulers', c.schedulers, 1);
  int('partitions', c.partitions, 1);
  int('sampleSize', c.sampleSize, 1);
  int('qualitySample', c.qualitySample, 0);
  if (!(c.maxTasksPerRound >= 1)) throw new RangeError(`maxTasksPerRound must be ≥ 1, got ${c.maxTasksPerRound}`);
  if (!(c.syncIntervalMs > 0) || !Number.isFinite(c.syncIntervalMs)) throw new RangeError(`syncIntervalMs must be a finite number > 0, got ${c.syncIntervalMs}`);
  for (const [k, v] of Object.entries({ jobDecisionMs: c.jobDecisionMs, taskDecisionMs: c.taskDecisionMs, batchWindowMs: c.batchWindowMs, warmupS: c.warmupS, defaultTaskDurationS: c.defaultTaskDurationS, timelineBucketS: c.timelineBucketS })) {
    nonNeg(k, v);
    if (!Number.isFinite(v)) throw new RangeError(`${k} must be finite, got ${v}`);
  }
  nonNeg('maxTasks', c.maxTasks);
  nonNeg('arrivalWindowS', c.arrivalWindowS);
  if (!(c.maxTaskDurationS > 0)) throw new RangeError(`maxTaskDurationS must be > 0, got ${c.maxTaskDurationS}`);
  if (!(c.adaptiveThresholdMs > 0)) throw new RangeError(`adaptiveThresholdMs must be > 0, got ${c.adaptiveThresholdMs}`);
  if (c.productionPriority !== undefined && !Number.isFinite(c.productionPriority)) throw new RangeError(`productionPriority must be a finite number, got ${c.productionPriority}`);
  if (!QUEUE_ORDERS.includes(c.queueOrder)) throw new RangeError(`queueOrder must be one of ${QUEUE_ORDERS.join(', ')}, got ${String(c.queueOrder)}`);
}

// Event kinds.
const ARRIVAL = 0;
const DECIDED = 1;
const COMMIT = 2;
const SYNC = 3;
const RETRY = 4;
const TASK_END = 5;

interface JobRec {
  readonly spec: SimJob;
  readonly submittedAt: number;
  readonly measured: boolean;
  sched: number;
  run: JobRun | undefined;
  /** Demand of its tasks not committed yet (counted as its queue's in-flight usage while it runs). */
  inFlight: ResourceVector | undefined;
  /** Victims of an eviction handed back (submittedAt is the eviction): not a job of the figures. */
  readonly handBack?: true;
}

/** A queued job as the JobQueue sees it. */
interface QueuedRec extends QueuedJob {
  readonly rec: JobRec;
}

type SimEvent =
  | { readonly k: typeof ARRIVAL; readonly job: SimJob }
  | { readonly k: typeof DECIDED; readonly s: number; readonly rec: JobRec; readonly txns: readonly Transaction[] }
  | { readonly k: typeof COMMIT }
  | { readonly k: typeof SYNC; readonly s: number }
  | { readonly k: typeof RETRY; readonly rec: JobRec }
  | { readonly k: typeof TASK_END; readonly ids: string[] };

const COMMIT_EVENT: SimEvent = Object.freeze({ k: COMMIT });

/** Raw figures of one run; `summarize` (summary.ts) turns them into the reported summary. */
export interface SimStats {
  jobsSubmitted: number;
  tasksSubmitted: number;
  jobsMeasured: number;
  jobsPlaced: number;
  jobsUnschedulable: number;
  tasksUnschedulable: number;
  unschedulableReasons: Record<string, number>;
  placements: number;
  proposedClaims: number;
  conflicts: number;
  conflictsByReason: Record<string, number>;
  retriedClaims: number;
  transactions: number;
  delayMs: Samples;
  stalenessMs: Samples;
  qualitySum: number;
  qualityCount: number;
  /** ∫ allocated dt per resource over the measurement window (resource·ms). */
  allocatedArea: Float64Array;
  capacity: Float64Array;
  windowStartMs: number;
  windowEndMs: number;
  simEndMs: number;
  events: number;
  syncRounds: number;
  syncedNodes: number;
  busyMs: Float64Array;
  commitBatches: number;
  modeRounds: Record<string, number>;
  /** Rounds that ended waiting for quota (the committer refused claims for their queue's max). */
  quotaWaits: number;
  /**
   * Claims proposed / refused by the freshness rank of the chosen node's partition in the
   * proposing view at decision time (0 = its most recently synced partition; partitions synced at
   * the same instant share a rank, so every state-sync claim has rank 0).
   */
  proposedByRank: Float64Array;
  refusedByRank: Float64Array;
  timeline: TimelineBucket[];
  /** Evictions and their victims (preemption on only). */
  preemption?: PreemptionStats;
  /** Measured jobs by class (productionPriority set only). */
  byClass?: { readonly production: ClassStats; readonly batch: ClassStats };
}

/** Measured jobs of one priority class: placed ones with their delay, and those given up. */
export interface ClassStats {
  jobsPlaced: number;
  tasksPlaced: number;
  jobsUnschedulable: number;
  readonly delayMs: Samples;
}

function classStats(): ClassStats {
  return { jobsPlaced: 0, tasksPlaced: 0, jobsUnschedulable: 0, delayMs: new Samples() };
}

export interface TimelineBucket {
  readonly startS: number;
  readonly delayMs: Samples;
  allocatedArea: Float64Array;
  jobs: number;
  proposed: number;
  conflicts: number;
}

export class Simulation {
  /** Told every committer answer (e.g. to follow the allocation as it grows). */
  private readonly onCommitted: ((result: TxnResult, atMs: number) => void) | undefined;
  readonly config: SimConfig;
  readonly space: ResourceSpace;
  readonly cell: CellState;
  readonly committer: Committer;
  readonly replicas: SchedulerReplica[];
  readonly stats: SimStats;

  private readonly queue = new EventQueue<SimEvent>();
  private readonly arrivals: Iterator<SimJob>;
  private arrivalsDone = false;
  private activeJobs = 0;
  /** Jobs waiting for a scheduler, in the configured order (the JobQueue seam). */
  private readonly waiting: JobQueue<QueuedRec>;
  /** Per leaf queue, the demand of dispatched jobs' tasks not committed yet. */
  private readonly inFlightUsage = new Map<string, ResourceVector>();
  private readonly idle: number[] = [];
  private readonly busy: Uint8Array;
  private readonly retryQueues: JobRec[][];
  /** Jobs whose last round found no room, waiting for a task to end (DRF ordering only). */
  private readonly roomWaiters: JobRec[] = [];
  private pendingCommit: { txn: Transaction; rec: JobRec }[] = [];
  private commitScheduled = false;
  private seq = 0;
  private lastT = 0;
  private readonly allocated: Float64Array;
  private readonly qualityRng: Rng;
  private readonly warmupMs: number;
  private readonly bucketMs: number;
  /** Every finished job, when `keepJobs` (tests check invariants on them). */
  readonly finished: JobRun[] | undefined;
  private qScratch = new Float64Array(64);
  private readonly claimRanks = new Map<string, Uint16Array>();
  private partRank = new Int32Array(0);
  private readonly qPending = new Map<NodeState, Float64Array>();
  private qTouched = new Uint8Array(0);
  private readonly qProbe: { capacity: Float64Array; allocated: Float64Array; reserved: Float64Array | undefined } = { capacity: new Float64Array(0), allocated: new Float64Array(0), reserved: undefined };
  /** Running tasks and evictions, when preemption is on. */
  private readonly pre: PreemptionBook<JobRec> | undefined;
  /** Hand-backs of a job so far (run keys of victims' runs). */
  private readonly handBacks = new Map<string, number>();

  constructor(config: SimConfig, space: ResourceSpace, nodes: readonly NodeRegistration[], arrivals: Iterable<SimJob> | Iterator<SimJob>, options: { keepJobs?: boolean; onCommitted?: (result: TxnResult, atMs: number) => void } = {}) {
    checkSimConfig(config);
    this.config = config;
    this.space = space;
    this.onCommitted = options.onCommitted;
    this.cell = new CellState(space, config.partitions, config.changeLogLimit === undefined ? {} : { changeLogLimit: config.changeLogLimit });
    for (const n of nodes) this.cell.upsertNode(n);
    // A small idempotency table: the simulator never replays, and results hold node snapshots.
    const tree = config.queues;
    this.pre = config.preemption === undefined ? undefined : new PreemptionBook<JobRec>(config.preemption);
    const capacity = this.cell.totals().capacity;
    this.committer = new Committer(this.cell, {
      granularity: config.granularity, dedupLimit: 1024,
      // The queue tree's max quotas, enforced by the committer as in cell-state.
      ...(tree === undefined || !tree.hasMax ? {} : { checks: withCheck(DEFAULT_CLAIM_CHECKS, quotaCheck(() => tree)) }),
      ...(this.pre === undefined ? {} : { evictionChecks: this.pre.evictionChecks(this.cell, () => this.lastT, tree, capacity) }),
    });
    const pipeline = config.preemption === undefined ? config.pipeline : withPreemptionPostFilter(config.pipeline, config.scorer, config.preemption);
    const retry = { ...DEFAULT_RETRY_POLICY, ...config.retry };
    this.replicas = [];
    for (let i = 0; i < config.schedulers; i++) {
      this.replicas.push(new SchedulerReplica({
        schedulerId: `s${i}`, schedulerIndex: i, schedulers: config.schedulers, partitions: config.partitions,
        mode: config.mode, scorer: config.scorer, sampleSize: config.sampleSize, syncIntervalMs: config.syncIntervalMs,
        retry, adaptive: { thresholdMs: config.adaptiveThresholdMs }, seed: config.seed, maxTasksPerRound: config.maxTasksPerRound, latencyFirstMaxStalenessMs: config.lfMaxStalenessMs,
        ...(pipeline === undefined ? {} : { pipeline }),
      }, new SchedulerView(space, config.partitions)));
    }
    this.waiting = config.queueOrder === 'drf' ? new DrfQueue<QueuedRec>(space, config.queues) : new FifoQueue<QueuedRec>();
    this.arrivals = Symbol.iterator in arrivals ? (arrivals as Iterable<SimJob>)[Symbol.iterator]() : (arrivals as Iterator<SimJob>);
    this.busy = new Uint8Array(config.schedulers);
    this.retryQueues = Array.from({ length: config.schedulers }, () => []);
    this.allocated = space.zero();
    this.qualityRng = createRng(`${config.seed}/quality`);
    this.qTouched = new Uint8Array(this.cell.nodeCount);
    this.partRank = new Int32Array(config.partitions);
    this.warmupMs = config.warmupS * 1000;
    this.bucketMs = config.timelineBucketS * 1000;
    this.finished = options.keepJobs ? [] : undefined;
    this.stats = {
      jobsSubmitted: 0, tasksSubmitted: 0, jobsMeasured: 0, jobsPlaced: 0, jobsUnschedulable: 0, tasksUnschedulable: 0,
      unschedulableReasons: {}, placements: 0, proposedClaims: 0, conflicts: 0, conflictsByReason: {}, retriedClaims: 0,
      transactions: 0, delayMs: new Samples(), stalenessMs: new Samples(), qualitySum: 0, qualityCount: 0,
      allocatedArea: space.zero(), capacity, windowStartMs: this.warmupMs, windowEndMs: this.warmupMs,
      simEndMs: 0, events: 0, syncRounds: 0, syncedNodes: 0, busyMs: new Float64Array(config.schedulers), commitBatches: 0,
      modeRounds: {}, quotaWaits: 0, timeline: [], proposedByRank: new Float64Array(config.partitions), refusedByRank: new Float64Array(config.partitions),
      ...(this.pre === undefined ? {} : { preemption: this.pre.stats }),
      ...(config.productionPriority === undefined ? {} : { byClass: { production: classStats(), batch: classStats() } }),
    };
  }

  /** Runs to the end: every admitted job placed or given up. */
  run(): SimStats {
    for (let s = 0; s < this.replicas.length; s++) {
      const r = this.replicas[s];
      for (const req of r.bootstrapRequests()) r.applySync(this.cell.sync(req.partition, req.since), 0);
      this.queue.push((r.syncRoundIntervalMs() * (s + 1)) / this.replicas.length, { k: SYNC, s });
      this.idle.push(s);
    }
    this.scheduleNextArrival();
    const q = this.queue;
    while (!(this.arrivalsDone && this.activeJobs === 0)) {
      const ev = q.pop();
      if (ev === undefined) break;
      const t = q.lastTime;
      this.advance(t);
      this.stats.events++;
      switch (ev.k) {
        case ARRIVAL:
          this.onArrival(ev.job, t);
          break;
        case DECIDED:
          this.onDecided(ev.s, ev.rec, ev.txns, t);
          break;
        case COMMIT:
          this.onCommit(t);
          break;
        case SYNC:
          this.onSync(ev.s, t);
          break;
        case RETRY:
          this.onRetry(ev.rec, t);
          break;
        case TASK_END:
          this.onTaskEnd(ev.ids);
          this.wakeRoomWaiters(t);
          // Room freed: a job waiting for its queue's quota may go now.
          if (this.waiting.size > 0 && this.idle.length > 0) this.dispatch(t);
          break;
      }
    }
    this.stats.simEndMs = this.lastT;
    if (this.stats.windowEndMs < this.stats.windowStartMs) this.stats.windowEndMs = this.stats.windowStartMs;
    return this.stats;
  }

  // ---- events -----------------------------------------------------------------------------

  private scheduleNextArrival(): void {
    const c = this.config;
    const next = this.stats.tasksSubmitted >= c.maxTasks ? undefined : this.arrivals.next();
    if (next === undefined || next.done) {
      this.arrivalsDone = true;
      return;
    }
    const t = Math.max(0, next.value.submitS * 1000, this.lastT);
    if (t > c.arrivalWindowS * 1000) {
      this.arrivalsDone = true;
      return;
    }
    this.queue.push(t, { k: ARRIVAL, job: next.value });
  }

  private onArrival(job: SimJob, t: number): void {
    const st = this.stats;
    const tasks = taskCount(job.job);
    st.jobsSubmitted++;
    st.tasksSubmitted += tasks;
    const measured = t >= this.warmupMs;
    if (measured) st.jobsMeasured++;
    const rec: JobRec = { spec: job, submittedAt: t, measured, sched: -1, run: undefined, inFlight: undefined };
    this.pre?.noteJob(job.job);
    this.activeJobs++;
    this.waiting.push(queuedOf(rec, this.space));
    if (this.bucketMs > 0) this.bucket(t).jobs++;
    this.scheduleNextArrival();
    if (this.arrivalsDone) st.windowEndMs = Math.max(t, this.warmupMs);
    this.dispatch(t);
  }

  /** Hands queued jobs to idle schedulers, longest idle first. */
  private dispatch(t: number): void {
    while (this.idle.length > 0) {
      const rec = this.takeNext();
      if (rec === undefined) return;
      this.startJob(this.idle.shift()!, rec, t);
    }
  }

  /**
   * The next job from the JobQueue, ordered by the committer's usage plus the demand of jobs
   * dispatched and not committed yet (so a burst of dispatches does not all go to one queue).
   */
  private takeNext(): JobRec | undefined {
    if (this.waiting.size === 0) return undefined;
    const tree = this.config.queues;
    const usage = this.config.queueOrder === 'fifo' && tree === undefined
      ? undefined
      : withExtraUsage({ capacity: this.stats.capacity, allocated: this.cell.queueAllocated(), ...(tree === undefined ? {} : { tree }) }, this.inFlightUsage);
    return this.waiting.next(usage)?.rec;
  }

  /**
   * A job whose queue is at its max waits in the JobQueue (its run kept, no scheduler busy with
   * it) until usage shows room; its pending demand stops counting as in flight meanwhile.
   */
  private park(rec: JobRec): void {
    this.stats.quotaWaits++;
    this.requeue(rec);
  }

  /** Back into the JobQueue with its run (a quota wait, a retry, a wait for room under drf). */
  private requeue(rec: JobRec): void {
    this.dropInFlight(rec);
    const q = queuedOf(rec, this.space);
    this.waiting.push(rec.run!.pending.length > 0 && q.need !== undefined ? { ...q, need: quotaNeed(rec.run!.pending.map((x) => x.demand), rec.spec.job.gang, this.space) } : q);
  }

  private startJob(s: number, rec: JobRec, t: number): void {
    rec.sched = s;
    // A job back from a quota wait goes on with its run (same attempts and idempotency keys).
    rec.run ??= this.replicas[s].admit(rec.spec.job, rec.submittedAt);
    if ((this.config.queueOrder !== 'fifo' || this.config.queues !== undefined) && rec.spec.job.preemptible !== true) {
      const total = this.space.zero();
      for (const task of rec.run.pending) addInto(total, task.demand);
      rec.inFlight = total;
      addQueueUsage(this.inFlightUsage, rec.spec.job.queue, total);
    }
    this.decide(s, rec, t);
  }

  /** One decision round of `rec` on scheduler `s`, starting at `t`. */
  private decide(s: number, rec: JobRec, t: number): void {
    const r = this.replicas[s];
    const run = rec.run!;
    const retriedBefore = run.retriedClaims;
    const p = r.propose(run, t);
    const c = this.config;
    const d = c.jobDecisionMs + c.taskDecisionMs * p.tasks.length;
    const st = this.stats;
    st.modeRounds[p.mode] = (st.modeRounds[p.mode] ?? 0) + 1;
    if (t >= this.warmupMs) {
      let claims = 0;
      for (const txn of p.txns) claims += txn.claims.length;
      st.proposedClaims += claims;
      st.retriedClaims += run.retriedClaims - retriedBefore;
      st.transactions += p.txns.length;
      if (this.bucketMs > 0) this.bucket(t).proposed += claims;
      const pl = p.placements;
      for (let i = 0; i < pl.length; i++) {
        const x = pl[i];
        if (x.ok) st.stalenessMs.add(x.stalenessMs + d);
      }
    }
    if (this.pre !== undefined) {
      const pl = p.placements;
      for (let i = 0; i < pl.length; i++) {
        const x = pl[i];
        if (x.ok && x.evictions !== undefined && x.evictions.length > 0) this.pre.notePreempting(p.tasks[i].id);
      }
    }
    this.busy[s] = 1;
    st.busyMs[s] += d;
    if (p.txns.length > 0 && t >= this.warmupMs) this.rankClaims(r, p.txns);
    this.queue.push(t + d, { k: DECIDED, s, rec, txns: p.txns });
  }

  /** Notes the freshness rank of each claim's partition (see SimStats.proposedByRank). */
  private rankClaims(r: SchedulerReplica, txns: readonly Transaction[]): void {
    const parts = r.view.partitions;
    const rank = this.partRank;
    for (let p = 0; p < parts.length; p++) {
      let k = 0;
      const at = parts[p].syncedAt;
      for (let q = 0; q < parts.length; q++) if (parts[q].syncedAt > at) k++;
      rank[p] = k;
    }
    for (const txn of txns) {
      const ranks = new Uint16Array(txn.claims.length);
      for (let i = 0; i < txn.claims.length; i++) {
        const k = rank[r.view.node(txn.claims[i].nodeId)?.partition ?? 0];
        ranks[i] = k;
        this.stats.proposedByRank[k]++;
      }
      this.claimRanks.set(txn.id, ranks);
    }
  }

  private countRanks(txn: Transaction, res: TxnResult): void {
    const ranks = this.claimRanks.get(txn.id);
    if (ranks === undefined) return;
    this.claimRanks.delete(txn.id);
    if (res.rejected.length === 0) return;
    const refused = new Set<string>();
    for (const x of res.rejected) if (x.reason !== ConflictReason.duplicate_task) refused.add(x.taskId);
    for (let i = 0; i < txn.claims.length; i++) if (refused.has(txn.claims[i].taskId)) this.stats.refusedByRank[ranks[i]]++;
  }

  private onDecided(s: number, rec: JobRec, txns: readonly Transaction[], t: number): void {
    this.busy[s] = 0;
    if (txns.length > 0) {
      for (const txn of txns) this.pendingCommit.push({ txn, rec });
      if (!this.commitScheduled) {
        this.commitScheduled = true;
        this.queue.push(t + this.config.batchWindowMs, COMMIT_EVENT);
      }
    } else {
      const run = rec.run!;
      if (run.state === 'backoff' && this.ordersRetries && this.activeTasks() > 0) this.waitForRoom(rec);
      else if (run.state === 'backoff') this.queue.push(Math.max(run.retryAt, t), { k: RETRY, rec });
      else if (run.state === 'placed' || run.state === 'unschedulable') this.finishJob(rec);
    }
    this.nextWork(s, t);
  }

  private nextWork(s: number, t: number): void {
    const rq = this.retryQueues[s];
    if (rq.length > 0) {
      this.decide(s, rq.shift()!, t);
    } else {
      const rec = this.takeNext();
      if (rec !== undefined) this.startJob(s, rec, t);
      else this.idle.push(s);
    }
  }

  /**
   * With DRF ordering every retry goes back through the JobQueue, and a round that found no room
   * waits for room (the next task end) instead of a timer: kube-scheduler's unschedulable queue,
   * moved on cluster events. So who takes room as it frees is the order's choice, not whichever
   * retry timer fires first.
   */
  private get ordersRetries(): boolean {
    return this.config.queueOrder === 'drf';
  }

  private activeTasks(): number {
    return this.cell.placedTaskCount;
  }

  private waitForRoom(rec: JobRec): void {
    this.dropInFlight(rec);
    this.roomWaiters.push(rec);
  }

  /** The job's demand not committed yet stops counting as its queue's in-flight usage. */
  private dropInFlight(rec: JobRec): void {
    if (rec.inFlight === undefined) return;
    this.settleInFlight(rec, Float64Array.from(rec.inFlight));
    rec.inFlight = undefined;
  }

  /** Room freed: jobs waiting for it go back to the JobQueue (at once, or when their backoff ends). */
  private wakeRoomWaiters(t: number): void {
    if (this.roomWaiters.length === 0) return;
    for (const rec of this.roomWaiters.splice(0)) {
      const at = rec.run!.retryAt;
      if (at <= t) this.requeue(rec);
      else this.queue.push(at, { k: RETRY, rec });
    }
  }

  private onRetry(rec: JobRec, t: number): void {
    if (this.ordersRetries) {
      this.requeue(rec);
      if (this.idle.length > 0) this.dispatch(t);
      return;
    }
    const s = rec.sched;
    if (this.busy[s]) {
      this.retryQueues[s].push(rec);
      return;
    }
    const i = this.idle.indexOf(s);
    if (i >= 0) this.idle.splice(i, 1);
    this.decide(s, rec, t);
  }

  private onCommit(t: number): void {
    this.commitScheduled = false;
    const batch = this.pendingCommit;
    this.pendingCommit = [];
    const seq = ++this.seq;
    const st = this.stats;
    st.commitBatches++;
    for (let b = 0; b < batch.length; b++) {
      const { txn, rec } = batch[b];
      const run = rec.run!;
      const entry = run.inFlight.get(txn.id)!;
      const measured = entry.proposedAt >= this.warmupMs;
      if (measured && this.config.qualitySample > 0) this.measureQuality(txn, entry.tasks);
      const res = this.committer.commit(txn, seq);
      this.onCommitted?.(res, t);
      this.countRanks(txn, res);
      if (res.evicted !== undefined && res.evicted.length > 0) this.handBackVictims(res.evicted, t);
      this.account(txn, entry.tasks, res, rec, measured, t);
      if (this.pre !== undefined) {
        this.checkTouched(res, txn);
        this.pre.decided(txn.claims);
      }
      const step = this.replicas[rec.sched].onResult(run, res, t);
      if (step.kind === 'retry') this.queue.push(step.at, { k: RETRY, rec });
      else if (step.kind === 'placed' || step.kind === 'unschedulable') this.finishJob(rec);
      else if (step.kind === 'quota') this.park(rec);
    }
    if (this.pre !== undefined && this.waiting.size > 0 && this.idle.length > 0) this.dispatch(t);
  }

  /**
   * Victims the committer released: their ends are cancelled, and each job's victims go back to
   * pending as one hand-back (cell-state's requeue per job, reason `preempted`), queued like a new
   * job, under a run key of their own so their transactions never collide with the job's.
   */
  private handBackVictims(evicted: readonly string[], t: number): void {
    const pre = this.pre!;
    const byJob = new Map<JobRec, TaskRequest[]>();
    for (const v of pre.evicted(evicted, t)) {
      subtractInto(this.allocated, v.demand);
      const list = byJob.get(v.rec);
      if (list === undefined) byJob.set(v.rec, [v.task]);
      else list.push(v.task);
    }
    for (const [of, tasks] of byJob) {
      const job = of.spec.job;
      const n = (this.handBacks.get(job.id) ?? 0) + 1;
      this.handBacks.set(job.id, n);
      const run = this.replicas[0].admitTasks(`${job.id}~p${n}`, false, tasks, t, placementJobOf(job));
      const rec: JobRec = { spec: of.spec, submittedAt: t, measured: of.measured, sched: -1, run, inFlight: undefined, handBack: true };
      pre.requeued(tasks);
      this.activeJobs++;
      this.waiting.push(queuedOf(rec, this.space));
    }
  }

  /** §5.1 after every commit of a run with evictions: the nodes the transaction touched are not over-committed. */
  private checkTouched(res: TxnResult, txn: Transaction): void {
    if (res.committed.length === 0 && res.evicted === undefined) return;
    const out = this.pre!.stats.overCommits;
    for (const s of res.nodes) {
      const n = this.cell.node(s.id);
      if (n !== undefined) for (const v of nodeViolations(n, this.space)) out.push(`${v} (after ${txn.id})`);
    }
  }

  /**
   * Quality of each claim, judged on the authoritative state just before the commit: the chosen
   * node's score divided by the best score among the chosen node and `qualitySample` nodes drawn
   * at random from the whole cell that could take the task now (1 = as good as the best seen).
   * Left in qScratch (NaN for a claim whose node cannot take it: it will be refused).
   */
  private measureQuality(txn: Transaction, tasks: readonly TaskRequest[]): void {
    const claims = txn.claims;
    if (this.qScratch.length < claims.length) this.qScratch = new Float64Array(claims.length * 2);
    const q = this.qScratch;
    const nodes = this.cell.nodes;
    const rng = this.qualityRng;
    const scorer = this.config.scorer;
    const k = this.config.qualitySample;
    // The transaction's earlier claims count as taken (as the committer will apply them), so a
    // job packing several tasks on one node is judged on the state each task really lands in.
    const pending = this.qPending;
    const touched = this.qTouched;
    const probe = this.qProbe;
    for (let i = 0; i < claims.length; i++) {
      const c = claims[i];
      const node = this.cell.node(c.nodeId);
      const booked = node === undefined ? undefined : pending.get(node);
      if (node === undefined || node.condition !== 'ready' || !fitsWith(node.capacity, node.allocated, booked, c.demand)) {
        q[i] = Number.NaN;
        continue;
      }
      const task = tasks[i];
      probe.capacity = node.capacity;
      probe.allocated = node.allocated;
      probe.reserved = booked;
      const chosen = scoreNode(probe, task, scorer);
      let best = chosen;
      for (let j = 0; j < k; j++) {
        const n = nodes[rng.int(nodes.length)];
        const b = touched[n.index] === 0 ? undefined : pending.get(n);
        if (n.condition !== 'ready' || !fitsWith(n.capacity, n.allocated, b, c.demand)) continue;
        probe.capacity = n.capacity;
        probe.allocated = n.allocated;
        probe.reserved = b;
        const sc = scoreNode(probe, task, scorer);
        if (sc > best) best = sc;
      }
      q[i] = best > 0 ? chosen / best : 1;
      if (claims.length > 1) {
        let p = booked;
        if (p === undefined) {
          pending.set(node, (p = new Float64Array(c.demand.length)));
          touched[node.index] = 1;
        }
        addInto(p, c.demand);
      }
    }
    probe.reserved = undefined;
    for (const n of pending.keys()) touched[n.index] = 0;
    pending.clear();
  }

  /** Counts a transaction's outcome, books what committed, and schedules the task ends. */
  private account(txn: Transaction, tasks: readonly TaskRequest[], res: TxnResult, rec: JobRec, measured: boolean, t: number): void {
    const st = this.stats;
    const claims = txn.claims;
    let rejected: Set<string> | undefined;
    if (res.rejected.length > 0) {
      rejected = new Set();
      for (const r of res.rejected) {
        rejected.add(r.taskId);
        if (r.reason === ConflictReason.duplicate_task) continue;
        if (measured) {
          st.conflicts++;
          st.conflictsByReason[r.reason] = (st.conflictsByReason[r.reason] ?? 0) + 1;
        }
      }
      if (measured && this.bucketMs > 0) this.bucket(rec.run!.inFlight.get(txn.id)!.proposedAt).conflicts += res.rejected.length;
    }
    const q = this.qScratch;
    const useQ = measured && this.config.qualitySample > 0;
    const c = this.config;
    let endAt = -1;
    let ids: string[] | undefined;
    for (let i = 0; i < claims.length; i++) {
      const claim = claims[i];
      if (rejected !== undefined && rejected.has(claim.taskId)) continue;
      addInto(this.allocated, claim.demand);
      if (rec.inFlight !== undefined) this.settleInFlight(rec, claim.demand);
      if (measured) {
        st.placements++;
        if (useQ && !Number.isNaN(q[i])) {
          st.qualitySum += q[i];
          st.qualityCount++;
        }
      }
      const task = tasks[i];
      let dur = rec.spec.taskDurationsS?.[task.group]?.[task.index] ?? task.durationS ?? c.defaultTaskDurationS;
      if (!(dur >= 0)) dur = c.defaultTaskDurationS;
      if (dur > c.maxTaskDurationS) dur = c.maxTaskDurationS;
      const end = t + dur * 1000;
      if (end !== endAt) {
        if (ids !== undefined) this.queue.push(endAt, { k: TASK_END, ids });
        ids = [];
        endAt = end;
      }
      ids!.push(claim.taskId);
      this.pre?.placed(task, rec, t, ids!);
    }
    if (ids !== undefined) this.queue.push(endAt, { k: TASK_END, ids });
  }

  /** Moves committed demand out of the job's in-flight usage (the committer's usage has it now). */
  private settleInFlight(rec: JobRec, demand: ResourceVector): void {
    subtractInto(rec.inFlight!, demand);
    for (const p of queuePrefixes(rec.spec.job.queue)) {
      const q = this.inFlightUsage.get(p);
      if (q !== undefined) subtractInto(q, demand);
    }
  }

  private finishJob(rec: JobRec): void {
    this.activeJobs--;
    if (rec.inFlight !== undefined) {
      this.settleInFlight(rec, Float64Array.from(rec.inFlight));
      rec.inFlight = undefined;
    }
    const run = rec.run!;
    const st = this.stats;
    if (rec.handBack === true) {
      // Victims placed again are counted as they commit (PreemptionBook.placed); given up, reported here.
      if (run.failed.length > 0) this.pre!.gaveUp(run.failed);
    } else if (rec.measured) {
      const cls = st.byClass === undefined ? undefined : rec.spec.job.priority >= this.config.productionPriority! ? st.byClass.production : st.byClass.batch;
      if (run.state === 'placed') {
        st.jobsPlaced++;
        const delay = run.finishedAt! - rec.submittedAt;
        st.delayMs.add(delay);
        if (this.bucketMs > 0) this.bucket(rec.submittedAt).delayMs.add(delay);
        if (cls !== undefined) {
          cls.jobsPlaced++;
          cls.tasksPlaced += run.taskCount;
          cls.delayMs.add(delay);
        }
      } else {
        if (cls !== undefined) cls.jobsUnschedulable++;
        st.jobsUnschedulable++;
        st.tasksUnschedulable += run.failed.length;
        for (const k in run.reasons) st.unschedulableReasons[k] = (st.unschedulableReasons[k] ?? 0) + run.reasons[k];
      }
    }
    this.finished?.push(run);
    rec.run = undefined;
  }

  private onSync(s: number, t: number): void {
    const r = this.replicas[s];
    const reqs = r.nextSyncRound();
    const pre = this.pre;
    for (let i = 0; i < reqs.length; i++) {
      const sync = this.cell.sync(reqs[i].partition, reqs[i].since);
      this.stats.syncedNodes += sync.nodes.length;
      r.applySync(pre === undefined ? sync : pre.withTasks(sync, this.cell), t);
    }
    // Reclaim judges queue usage as the sync replies ship it (cell-state sends it with them).
    if (pre !== undefined && this.config.queues !== undefined) r.quotaUsage = quotaUsageOf(this.config.queues, this.cell.queueAllocated(), this.stats.capacity);
    this.stats.syncRounds++;
    this.queue.push(t + r.syncRoundIntervalMs(), { k: SYNC, s });
  }

  private onTaskEnd(ids: readonly string[]): void {
    const pre = this.pre;
    for (let i = 0; i < ids.length; i++) {
      // '' is a victim's cancelled end (PreemptionBook.evicted).
      if (ids[i] === '') continue;
      const a = this.cell.release(ids[i]);
      if (a !== undefined) subtractInto(this.allocated, a.demand);
      pre?.ended(ids[i]);
    }
  }

  /** Moves the clock to `t`, integrating allocation over the measurement window. */
  private advance(t: number): void {
    const from = Math.max(this.lastT, this.warmupMs);
    if (!this.arrivalsDone && t > from) {
      const dt = t - from;
      const area = this.stats.allocatedArea;
      const a = this.allocated;
      for (let i = 0; i < a.length; i++) area[i] += a[i] * dt;
      if (this.bucketMs > 0) this.integrateBuckets(from, t);
    }
    this.lastT = t;
  }

  private integrateBuckets(from: number, to: number): void {
    const a = this.allocated;
    let x = from;
    while (x < to) {
      const b = this.bucket(x);
      const end = Math.min(to, (Math.floor(x / this.bucketMs) + 1) * this.bucketMs);
      const dt = end - x;
      for (let i = 0; i < a.length; i++) b.allocatedArea[i] += a[i] * dt;
      x = end;
    }
  }

  private bucket(t: number): TimelineBucket {
    const i = Math.floor(t / this.bucketMs);
    const tl = this.stats.timeline;
    while (tl.length <= i) {
      tl.push({ startS: (tl.length * this.bucketMs) / 1000, delayMs: new Samples(), allocatedArea: this.space.zero(), jobs: 0, proposed: 0, conflicts: 0 });
    }
    return tl[i];
  }
}

/** What the JobQueue needs of a job: its queue, priority, submit time and what must fit under its queue's max. */
function queuedOf(rec: JobRec, space: ResourceSpace): QueuedRec {
  const job = rec.spec.job;
  let need: ResourceVector | undefined;
  if (job.preemptible !== true) {
    need = space.zero();
    if (job.gang) {
      for (const g of job.tasks) {
        const v = space.vector(g.resources);
        for (let k = 0; k < v.length; k++) need[k] += v[k] * g.count;
      }
    } else {
      // The smallest group's task (by its largest amount): what the job needs to make progress.
      let best = Infinity;
      for (const g of job.tasks) {
        const v = space.vector(g.resources);
        let m = 0;
        for (let k = 0; k < v.length; k++) if (v[k] > m) m = v[k];
        if (m < best) {
          best = m;
          need = v;
        }
      }
    }
  }
  return { id: job.id, queue: job.queue, priority: job.priority, submittedAt: rec.submittedAt, rec, ...(need === undefined ? {} : { need }) };
}

