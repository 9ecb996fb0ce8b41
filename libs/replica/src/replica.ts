/**
 * The pure core of one scheduler replica, shared by the simulator and the scheduler service so
 * both run the same decisions. It owns a SchedulerView and decides:
 * - which partitions to sync next (ParSync staggered round-robin, or all for state-sync);
 * - the placement mode to use now (adaptive resolved on delay and conflict rate, adaptive.ts);
 * - each job's proposals (placeJob → transactions with deterministic idempotency keys), and what
 *   to do with the committer's answers (forget reservations, refresh the view, retry with backoff,
 *   give up with reasons).
 * It never does I/O and never reads a clock: `now` (ms) comes in with every call, randomness comes
 * from seeded generators. The shell sends the transactions, fetches the syncs and runs the timers.
 */
import {
  ConflictReason,
  expandTasks,
  homePartitions,
  type JobSpec,
  type PartitionSync,
  type QuotaUsage,
  type SchedulerView,
  type TaskRequest,
  type Transaction,
  type TxnResult,
} from '@tessera/core';
import {
  beginPlacement,
  bookPlacement,
  createPipeline,
  createRng,
  defaultRegistry,
  FIRST_LISTED,
  placeByPostFilters,
  placeInContext,
  scorerShorthand,
  type EffectiveMode,
  type JobPlacement,
  type Pipeline,
  type PipelineSpec,
  type PlaceOptions,
  type Placement,
  type PlacementFailure,
  type PlacementJob,
  type PlacementMode,
  type PluginRegistry,
  type Rng,
} from '@tessera/policy';
import { ConflictAwareAdaptive, type ConflictAwareAdaptiveOptions } from './adaptive.ts';
import { BadNodeTracker, type BadNodeMark, type BadNodePolicy } from './bad-nodes.ts';
import { isValidSchedulerId, txnKey } from './idempotency.ts';
import {
  addReason,
  addReasons,
  GiveUpReason,
  IllegalJobTransitionError,
  newJobRun,
  type JobRun,
} from './job-run.ts';
import { checkRetryPolicy, conflictBudgetSpent, DEFAULT_RETRY_POLICY, retryBackoffMs, type RetryPolicy } from './retry.ts';
import { checkTopology, partitionsForRound, syncRoundIntervalMs } from './sync-plan.ts';

export interface ReplicaOptions {
  /** Unique per replica; part of idempotency keys ([A-Za-z0-9_.@-], no ':'). */
  readonly schedulerId: string;
  readonly schedulerIndex: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly mode: PlacementMode;
  /** Shorthand for `pipeline: scorerShorthand(scorer)` (default `binpack`). */
  readonly scorer?: string;
  /** The placement pipeline by name with args and weights (overrides `scorer`). */
  readonly pipeline?: PipelineSpec;
  /** Where the pipeline's plugin factories are looked up (default: policy's defaultRegistry). */
  readonly registry?: PluginRegistry;
  /** Candidates placement scores per task (default 16). */
  readonly sampleSize?: number;
  /** Every partition is refreshed once per this period (ms), whatever the mode (see sync-plan.ts). */
  readonly syncIntervalMs: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly adaptive?: ConflictAwareAdaptiveOptions;
  /** Split a non-gang job's claims into transactions of at most this many (default: no split). */
  readonly maxClaimsPerTxn?: number;
  /**
   * Place at most this many of a non-gang job's tasks per round (default: all). The rest go in
   * the next round, proposed on a fresher view as soon as this round's answers are in, instead of
   * every claim of a huge job being decided on the view as it was when the job started.
   */
  readonly maxTasksPerRound?: number;
  /**
   * Latency-first falls back to the next freshest partition only while that partition is at most
   * this stale (ms at decision time); a task with room only in staler partitions waits for the next
   * sync round instead, as "no room now" (reason {@link STALE_ONLY}). Room seen in a stale partition
   * is mostly room its fresh holders have taken since, so claiming it is a conflict in the making:
   * without the bound, once the cell is nearly full latency-first's fallbacks conflict as often as
   * state-sync. Default max(G/4, G/P) (G/P keeps the freshest partition always usable);
   * Infinity falls back however stale. Other modes ignore it, and so do gangs: a gang must fit
   * whole in one round, and the partitions fresher than the bound may never hold it.
   */
  readonly latencyFirstMaxStalenessMs?: number;
  /**
   * Latency-first tries this replica's home partitions first (its 1/N block of them, see
   * homePartitions in @tessera/core), and room there is claimed however stale: no other replica
   * prefers those nodes, so its view of them is mostly its own bookings. Default true with more
   * than one replica; false walks all partitions by freshness alone.
   */
  readonly preferHomePartitions?: boolean;
  /** Seed mixed into every decision's rng (default 0). */
  readonly seed?: number | string;
  /**
   * How a placement walks the nodes it considers: `seeded` (default) from a seeded start with a
   * seeded stride, so replicas spread over ties; `listed` in the view's order, a tie going to the
   * first listed node (FGD's reproducible rule; one replica, or they all pick the same nodes).
   */
  readonly visitOrder?: VisitOrder;
  /** Bad-node tracking (bad-nodes.ts): refusals per node before it is held ineligible, and for how long. */
  readonly badNodes?: Partial<BadNodePolicy>;
}

export interface ReplicaConfig {
  readonly schedulerId: string;
  readonly schedulerIndex: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly scorer: string;
  readonly pipeline: PipelineSpec;
  readonly sampleSize: number;
  readonly syncIntervalMs: number;
  readonly retry: RetryPolicy;
  readonly maxClaimsPerTxn: number;
  readonly maxTasksPerRound: number;
  readonly latencyFirstMaxStalenessMs: number;
  /** Indexed by partition; undefined with one replica or preferHomePartitions false. */
  readonly homePartitions: readonly boolean[] | undefined;
  readonly seed: string;
  readonly visitOrder: VisitOrder;
}

/** ReplicaOptions.visitOrder. */
export const VISIT_ORDERS = ['seeded', 'listed'] as const;
export type VisitOrder = (typeof VISIT_ORDERS)[number];

/** Validates options once and freezes them (a configuration fault throws RangeError). */
export function compileReplicaConfig(o: ReplicaOptions): ReplicaConfig {
  if (!isValidSchedulerId(o.schedulerId)) throw new RangeError(`schedulerId must be 1-100 characters of A-Z a-z 0-9 _ . @ -, got "${o.schedulerId}"`);
  checkTopology(o);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...o.retry };
  checkRetryPolicy(retry);
  const sampleSize = o.sampleSize ?? 16;
  if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new RangeError(`sampleSize must be an integer ≥ 1, got ${sampleSize}`);
  if (!(o.syncIntervalMs > 0) || !Number.isFinite(o.syncIntervalMs)) throw new RangeError(`syncIntervalMs must be a finite number > 0, got ${o.syncIntervalMs}`);
  const maxClaimsPerTxn = o.maxClaimsPerTxn ?? Infinity;
  if (!(maxClaimsPerTxn >= 1)) throw new RangeError(`maxClaimsPerTxn must be ≥ 1, got ${maxClaimsPerTxn}`);
  const maxTasksPerRound = o.maxTasksPerRound ?? Infinity;
  // The bound keeps latency-first off partitions other replicas hold fresher. A lone replica has no
  // such rivals: its own commits refresh its view, and a stale partition can only under-state room.
  const latencyFirstMaxStalenessMs = o.latencyFirstMaxStalenessMs ?? (o.schedulers === 1 ? Infinity : Math.max(o.syncIntervalMs / 4, o.syncIntervalMs / o.partitions));
  if (!(latencyFirstMaxStalenessMs >= 0)) throw new RangeError(`latencyFirstMaxStalenessMs must be ≥ 0, got ${latencyFirstMaxStalenessMs}`);
  if (!(maxTasksPerRound >= 1)) throw new RangeError(`maxTasksPerRound must be ≥ 1, got ${maxTasksPerRound}`);
  return Object.freeze({
    schedulerId: o.schedulerId,
    schedulerIndex: o.schedulerIndex,
    schedulers: o.schedulers,
    partitions: o.partitions,
    scorer: o.scorer ?? 'binpack',
    pipeline: o.pipeline ?? scorerShorthand(o.scorer ?? 'binpack'),
    sampleSize,
    syncIntervalMs: o.syncIntervalMs,
    retry: Object.freeze(retry),
    maxClaimsPerTxn,
    maxTasksPerRound,
    latencyFirstMaxStalenessMs,
    homePartitions: o.schedulers > 1 && o.preferHomePartitions !== false ? Object.freeze(homePartitions(o.schedulerIndex, o.schedulers, o.partitions)) : undefined,
    seed: String(o.seed ?? 0),
    visitOrder: o.visitOrder ?? 'seeded',
  });
}

/** One partition to fetch: the shell asks the cell for "partition p since version v". */
export interface SyncRequest {
  readonly partition: number;
  readonly since: number;
}

/** What one proposal round produced. */
export interface Proposal {
  /** Transactions to send (empty when nothing could be proposed; see `run.state`). */
  readonly txns: readonly Transaction[];
  /** The tasks attempted this round and placeJob's answer for each (same order). */
  readonly tasks: readonly TaskRequest[];
  readonly placements: readonly Placement[];
  /** The mode placement ran in. */
  readonly mode: EffectiveMode;
}

/** What the shell should do with a job after the replica handled an answer. */
export type JobStep =
  | { readonly kind: 'wait' } // more answers of this round are outstanding
  | { readonly kind: 'retry'; readonly at: number } // propose again at `at`
  | { readonly kind: 'placed' }
  | { readonly kind: 'unschedulable'; readonly reasons: Readonly<Record<string, number>> }
  /**
   * The committer refused some claims for quota: the job waits (pending, ready to propose) until
   * its queue has room again. No retry budget is spent; the dispatcher holds it back until the
   * usage it is shipped shows room (a JobQueue does), then proposes again.
   */
  | { readonly kind: 'quota'; readonly queue: string }
  | { readonly kind: 'ignored' }; // unknown or already answered transaction

export class SchedulerReplica {
  readonly config: ReplicaConfig;
  readonly view: SchedulerView;
  /** The compiled placement pipeline (built once from `config.pipeline`). */
  readonly pipeline: Pipeline;
  private configuredMode: PlacementMode;
  private adaptive: ConflictAwareAdaptive;
  private readonly adaptiveOptions: ReplicaOptions['adaptive'];
  private round = 0;
  private readonly backoffRng: Rng;
  private readonly badNodes: BadNodeTracker;
  /** Nodes held ineligible: the booking that makes them look full to placement. */
  private readonly heldNodes = new Map<string, Float64Array>();
  private newMarks: BadNodeMark[] = [];
  /** Queue usage and guarantees as last heard (quotaUsageOf), for reclaim by preemption; undefined: none. */
  quotaUsage: QuotaUsage | undefined;

  constructor(options: ReplicaOptions, view: SchedulerView) {
    this.config = compileReplicaConfig(options);
    if (view.partitions.length !== this.config.partitions) {
      throw new RangeError(`view has ${view.partitions.length} partitions, the replica is configured for ${this.config.partitions}`);
    }
    this.view = view;
    this.pipeline = createPipeline(this.config.pipeline, { space: view.space, registry: options.registry ?? defaultRegistry });
    this.configuredMode = options.mode;
    this.adaptiveOptions = options.adaptive;
    this.adaptive = new ConflictAwareAdaptive(options.adaptive);
    this.backoffRng = createRng(`${this.config.seed}/${this.config.schedulerId}/backoff`);
    this.badNodes = new BadNodeTracker(options.badNodes);
  }

  // ---- mode -------------------------------------------------------------------------------

  /** The configured mode (may be `adaptive`). */
  get mode(): PlacementMode {
    return this.configuredMode;
  }

  /** Switches mode at run time. Entering `adaptive` starts again from quality-first. */
  setMode(mode: PlacementMode): void {
    if (mode === 'adaptive' && this.configuredMode !== 'adaptive') this.adaptive = new ConflictAwareAdaptive(this.adaptiveOptions);
    this.configuredMode = mode;
  }

  /** The mode placement runs in now. */
  get effectiveMode(): EffectiveMode {
    return this.configuredMode === 'adaptive' ? this.adaptive.current : this.configuredMode;
  }

  /** Feeds a scheduling delay (ms) to the adaptive switch; jobs that finish feed theirs automatically. */
  observeDelay(delayMs: number): EffectiveMode {
    this.adaptive.observeDelay(delayMs);
    return this.effectiveMode;
  }

  // ---- sync -------------------------------------------------------------------------------

  /** Every partition, from scratch: what a replica fetches when it starts. */
  bootstrapRequests(): SyncRequest[] {
    return this.view.partitions.map((p) => ({ partition: p.id, since: -1 }));
  }

  /** The sync round the next call to {@link nextSyncRound} returns. */
  get syncRound(): number {
    return this.round;
  }

  /** The partitions of the next sync round, with the version the view holds of each; advances the round. */
  nextSyncRound(): SyncRequest[] {
    const parts = partitionsForRound(this.config, this.configuredMode, this.round++);
    const out = new Array<SyncRequest>(parts.length);
    for (let i = 0; i < parts.length; i++) out[i] = { partition: parts[i], since: this.view.partitions[parts[i]].version };
    return out;
  }

  /** Time (ms) from one sync round to the next in the current mode. */
  syncRoundIntervalMs(): number {
    return syncRoundIntervalMs(this.configuredMode, this.config.syncIntervalMs, this.config.partitions);
  }

  applySync(sync: PartitionSync, now: number): void {
    this.view.applySync(sync, now);
  }

  // ---- jobs -------------------------------------------------------------------------------

  /** Starts a validated job: expands its tasks; the run is `ready` to propose. */
  admit(job: JobSpec, now: number): JobRun {
    return newJobRun(job.id, job.gang, expandTasks(job, this.view.space), now, placementJobOf(job));
  }

  /** Starts a job from already expanded tasks (they must all belong to `jobId`). */
  admitTasks(jobId: string, gang: boolean, tasks: TaskRequest[], now: number, job?: PlacementJob): JobRun {
    return newJobRun(jobId, gang, tasks, now, job);
  }

  /**
   * One proposal round: places the pending tasks on the view (booking them with `assume`) and
   * turns the claims into transactions. A gang is one all-or-nothing transaction, and is only
   * proposed when every task found a node. When nothing can be proposed the run moves to
   * `backoff` (no room now) or `unschedulable` (never fits / limits reached) at once.
   */
  propose(run: JobRun, now: number): Proposal {
    if (run.state !== 'ready' && !(run.state === 'backoff' && now >= run.retryAt)) {
      throw new IllegalJobTransitionError(run.jobId, run.state, run.state === 'backoff' ? `propose before retryAt ${run.retryAt}` : 'propose');
    }
    const cfg = this.config;
    this.releaseBadNodes(now);
    run.attempt++;
    run.roundConflict = false;
    run.roundNoRoom = false;
    run.roundQuota = false;
    run.roundRefusals = 0;
    let tasks = run.pending;
    let untried: TaskRequest[] | undefined;
    if (!run.gang && tasks.length > cfg.maxTasksPerRound) {
      untried = tasks.slice(cfg.maxTasksPerRound);
      tasks = tasks.slice(0, cfg.maxTasksPerRound);
    }
    const mode = this.effectiveMode;
    const rng = cfg.visitOrder === 'listed' ? FIRST_LISTED : createRng(`${cfg.seed}/${cfg.schedulerId}/${run.jobId}/${run.attempt}`);
    const opts: PlaceOptions = {
      mode, scorer: cfg.scorer, sampleSize: cfg.sampleSize, now, rng, pipeline: this.pipeline, homePartitions: cfg.homePartitions,
      // Placement rules count the job's tasks committed in earlier rounds too.
      job: run.job !== undefined && run.placed.size > 0 && tasks.some((t) => t.rules !== undefined) ? { ...run.job, placed: run.placed } : run.job,
      ...(this.quotaUsage === undefined ? {} : { quota: this.quotaUsage }),
    };
    const { claims, placements, unplaced, evictions } = placeTasks(this.view, tasks, opts, mode === 'latency-first' && !run.gang ? cfg.latencyFirstMaxStalenessMs : Infinity);

    let never = 0;
    for (const u of unplaced) {
      addReasons(run.reasons, u.placement.reasons);
      if (!u.placement.retryable) never++;
    }

    // The tasks of the claims, in claim order (placeJob claims the ok placements in task order).
    const claimTasks: TaskRequest[] = [];
    const noRoom: TaskRequest[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const p = placements[i];
      if (p.ok) claimTasks.push(tasks[i]);
      else if (p.retryable) noRoom.push(tasks[i]);
      else if (!run.gang) run.failed.push(tasks[i]);
    }
    alignClaimTasks(claims, claimTasks, tasks);

    if (run.gang && unplaced.length > 0) {
      this.forgetClaims(claims);
      if (never > 0) {
        addReason(run.reasons, GiveUpReason.gang_unplaceable);
        this.giveUp(run, now);
      } else {
        run.roundNoRoom = true;
        this.endRound(run, now);
      }
      return { txns: [], tasks, placements, mode };
    }

    run.pending = untried === undefined ? noRoom : noRoom.length === 0 ? untried : noRoom.concat(untried);
    run.roundNoRoom = noRoom.length > 0;
    const txns: Transaction[] = [];
    if (claims.length > 0) {
      const refused = run.refusals;
      if (refused !== undefined) for (const c of claims) if (refused.has(c.taskId)) run.retriedClaims++;
      // Evictions travel with the claims they make room for: a round with evictions is one transaction.
      const size = run.gang || evictions.length > 0 ? claims.length : Math.min(claims.length, cfg.maxClaimsPerTxn);
      for (let start = 0, chunk = 0; start < claims.length; start += size, chunk++) {
        const end = Math.min(claims.length, start + size);
        const txn: Transaction = {
          id: txnKey(cfg.schedulerId, run.jobId, run.attempt, chunk),
          schedulerId: cfg.schedulerId,
          kind: run.gang ? 'all-or-nothing' : 'incremental',
          claims: start === 0 && end === claims.length ? claims : claims.slice(start, end),
          ...(evictions.length > 0 ? { evictions } : {}),
        };
        txns.push(txn);
        run.inFlight.set(txn.id, { txn, tasks: start === 0 && end === claimTasks.length ? claimTasks : claimTasks.slice(start, end), proposedAt: now });
      }
      run.state = 'in_flight';
    } else {
      this.endRound(run, now);
    }
    return { txns, tasks, placements, mode };
  }

  /**
   * The committer's answer to one of the job's transactions: drops the reservations, refreshes
   * the view with the fresh node states, marks what committed, and once the round's last answer
   * is in, finishes the job or schedules its retry.
   */
  onResult(run: JobRun, result: TxnResult, now: number): JobStep {
    const entry = run.inFlight.get(result.txnId);
    if (entry === undefined) return { kind: 'ignored' };
    run.inFlight.delete(result.txnId);
    this.forgetClaims(entry.txn.claims);
    if (result.nodes.length > 0) this.view.refreshNodes(result.nodes);

    const claims = entry.txn.claims;
    const policy = this.config.retry;
    let reasonOf: Map<string, string> | undefined;
    let known: Set<string> | undefined;
    let refusedNodes: Set<string> | undefined;
    if (result.rejected.length > 0) {
      reasonOf = new Map();
      for (const r of result.rejected) reasonOf.set(r.taskId, r.reason);
      known = new Set();
      for (const n of result.nodes) known.add(n.id);
    }
    for (let i = 0; i < claims.length; i++) {
      const c = claims[i];
      const reason = reasonOf?.get(c.taskId);
      // duplicate_task: the task is already placed (an earlier proposal whose answer was lost
      // committed it), so it counts as placed, never as something to place again.
      if (reason === undefined || reason === ConflictReason.duplicate_task) {
        run.placed.set(c.taskId, reason === undefined ? c.nodeId : '');
      } else if (reason === ConflictReason.quota) {
        // Not a stale view and not a conflict to retry: the queue is at its max. Wait for room.
        run.roundQuota = true;
        run.roundRejected.push(entry.tasks[i]);
      } else {
        addReason(run.reasons, reason);
        run.roundConflict = true;
        this.markStale(run, c.nodeId, reason, known!);
        if (!(refusedNodes ??= new Set()).has(c.nodeId)) {
          // One answer counts once per node (Nomad counts plan rejections, not refused allocations).
          refusedNodes.add(c.nodeId);
          this.noteRefusal(c.nodeId, reason, now);
        }
        const refusals = (run.refusals ??= new Map());
        const n = (refusals.get(c.taskId) ?? 0) + 1;
        refusals.set(c.taskId, n);
        const first = (run.firstRefusedAt ??= new Map());
        if (n === 1) first.set(c.taskId, now);
        if (n > run.roundRefusals) run.roundRefusals = n;
        if (conflictBudgetSpent(n, first.get(c.taskId) ?? now, now, policy)) {
          addReason(run.reasons, GiveUpReason.conflict_retries_exhausted);
          run.failed.push(entry.tasks[i]);
        } else {
          run.roundRejected.push(entry.tasks[i]);
        }
      }
    }
    let refusedHere = 0;
    if (reasonOf !== undefined) for (const r of result.rejected) if (r.reason !== ConflictReason.duplicate_task) refusedHere++;
    this.adaptive.observeClaims(claims.length - refusedHere, refusedHere, now);
    if (run.inFlight.size > 0) return { kind: 'wait' };
    if (run.roundRejected.length > 0) {
      run.pending = run.pending.length === 0 ? run.roundRejected : run.pending.concat(run.roundRejected);
      run.roundRejected = [];
    }
    return this.endRound(run, now);
  }

  /**
   * The partitions the committer's refusals showed stale since the last call, as sync requests to
   * send before the job's next round (a refused claim means the view was wrong about that node,
   * and likely about its neighbours: after an outage the whole partition is stale). `since` is
   * the version the view holds, or -1 (a snapshot) where a refused node was unknown to the cell:
   * a delta never removes a node the view still holds. Empty when nothing is stale.
   */
  takeRefresh(run: JobRun): SyncRequest[] {
    const stale = run.staleParts;
    if (stale === undefined || stale.size === 0) return [];
    run.staleParts = undefined;
    const out: SyncRequest[] = [];
    for (const [partition, snapshot] of stale) {
      const p = this.view.partitions[partition];
      if (p !== undefined) out.push({ partition, since: snapshot ? -1 : p.version });
    }
    return out;
  }

  /** Transactions of a job still waiting for an answer (to resend, same ids, after a timeout). */
  inFlightTxns(run: JobRun): Transaction[] {
    return [...run.inFlight.values()].map((e) => e.txn);
  }

  /** A job's delay so far or in total (submit → finished), ms. */
  static delayOf(run: JobRun, now: number): number {
    return (run.finishedAt ?? now) - run.submittedAt;
  }

  /** Nodes marked ineligible since the last call (to report: log and metric). */
  takeBadNodeMarks(): BadNodeMark[] {
    const out = this.newMarks;
    this.newMarks = [];
    return out;
  }

  /** Nodes held ineligible now. */
  get badNodeCount(): number {
    return this.heldNodes.size;
  }

  // ---- internals --------------------------------------------------------------------------

  /**
   * A refusal that says the view was wrong about the node counts toward marking it bad. A bad node
   * is held by booking its whole capacity in the view (placement then sees it full) until the hold
   * ends; the booking survives syncs, like every reservation.
   */
  private noteRefusal(nodeId: string, reason: string, now: number): void {
    if (reason !== ConflictReason.resources && reason !== ConflictReason.version && reason !== ConflictReason.constraint) return;
    const mark = this.badNodes.record(nodeId, now);
    if (mark === undefined) return;
    const node = this.view.node(nodeId);
    if (node === undefined) return;
    const booking = Float64Array.from(node.capacity);
    this.view.assume(nodeId, booking);
    this.heldNodes.set(nodeId, booking);
    this.newMarks.push(mark);
  }

  private releaseBadNodes(now: number): void {
    if (this.heldNodes.size === 0) return;
    for (const id of this.badNodes.expire(now)) {
      const booking = this.heldNodes.get(id);
      if (booking === undefined) continue;
      this.heldNodes.delete(id);
      this.view.forget(id, booking);
    }
  }

  /** Notes the partition of a refused claim's node as stale (conflict reasons that say the view was wrong). */
  private markStale(run: JobRun, nodeId: string, reason: string, known: ReadonlySet<string>): void {
    if (reason === ConflictReason.placement_rule) {
      // Another job's tasks the view did not show (anywhere with the rule's label value): fetch
      // every partition's changes before proposing again, or the same stale room is chosen again.
      const stale = (run.staleParts ??= new Map());
      for (let p = 0; p < this.view.partitions.length; p++) if (!stale.has(p)) stale.set(p, false);
      return;
    }
    if (reason !== ConflictReason.resources && reason !== ConflictReason.version && reason !== ConflictReason.constraint && reason !== ConflictReason.node_gone) return;
    const partition = this.view.node(nodeId)?.partition;
    if (partition === undefined) return;
    // node_gone for a node the answer carries no state of: the cell does not know it at all.
    const snapshot = reason === ConflictReason.node_gone && !known.has(nodeId);
    const stale = (run.staleParts ??= new Map());
    stale.set(partition, snapshot || stale.get(partition) === true);
  }

  private forgetClaims(claims: Transaction['claims']): void {
    for (let i = 0; i < claims.length; i++) this.view.forget(claims[i].nodeId, claims[i].demand, claims[i].devices);
  }

  /** Closes a round with no answers outstanding: finished, or retry later, or give up. */
  private endRound(run: JobRun, now: number): JobStep {
    if (run.roundConflict) run.conflictRounds++;
    if (run.roundQuota && !run.roundConflict && run.pending.length > 0 && !(run.gang && run.failed.length > 0)) {
      run.state = 'ready';
      run.retryAt = now;
      run.failedRounds = 0;
      return { kind: 'quota', queue: run.job.queue ?? 'default' };
    }
    if (run.pending.length === 0) {
      run.finishedAt = now;
      if (run.failed.length > 0) {
        run.state = 'unschedulable';
        return { kind: 'unschedulable', reasons: run.reasons };
      }
      run.state = 'placed';
      this.adaptive.observeDelay(now - run.submittedAt);
      return { kind: 'placed' };
    }
    const policy = this.config.retry;
    if (run.gang && run.failed.length > 0) {
      // A gang with a task out of retries cannot run at all.
      return this.giveUp(run, now);
    }
    if (run.roundNoRoom && now - run.submittedAt >= policy.maxWaitMs) {
      addReason(run.reasons, GiveUpReason.no_room_timeout);
      return this.giveUp(run, now);
    }
    if (!run.roundConflict && !run.roundNoRoom) {
      // A clean round that left tasks untried (maxTasksPerRound): go on at once.
      run.failedRounds = 0;
      run.state = 'ready';
      run.retryAt = now;
      return { kind: 'retry', at: now };
    }
    run.failedRounds++;
    run.state = 'backoff';
    run.retryAt = now + retryBackoffMs(run.failedRounds, run.roundConflict ? run.roundRefusals : 0, this.backoffRng, policy);
    return { kind: 'retry', at: run.retryAt };
  }

  private giveUp(run: JobRun, now: number): JobStep {
    for (const t of run.pending) run.failed.push(t);
    run.pending = [];
    run.state = 'unschedulable';
    run.finishedAt = now;
    return { kind: 'unschedulable', reasons: run.reasons };
  }
}

/** Placement reason: latency-first found room only in partitions staler than its bound. */
export const STALE_ONLY = 'room only in stale partitions';

/**
 * policy's placeJob (one placement context for the job's tasks), with two additions. A placement
 * on a partition staler than `maxStalenessMs` (and not one of `opts.homePartitions`) is not booked and is answered as retryable "no room
 * now" ({@link STALE_ONLY}). And once a task found no node, the following tasks of the same shape
 * (same demand and constraints objects, as expandTasks shares them within a group) get the same
 * answer without another scan of the view. Nothing placement looks at got emptier in between
 * (later tasks only add bookings), so the answer cannot differ; and a job of 10,000 tasks waiting
 * for room costs one scan per round instead of 10,000 (Nomad memoizes feasibility per node class
 * for the same reason). Likewise once a task was placed only by a post-filter (evictions): the
 * following tasks of its shape skip the walk that would find no room again and go to the
 * post-filters at once.
 */
export function placeTasks(view: SchedulerView, tasks: readonly TaskRequest[], opts: PlaceOptions, maxStalenessMs = Infinity): JobPlacement {
  const ctx = beginPlacement(view, tasks, opts);
  const out: JobPlacement = { claims: [], placements: [], unplaced: [], evictions: [] };
  let failedShape: TaskRequest | undefined;
  let failure: PlacementFailure | undefined;
  // A task of this shape found no room and a post-filter placed it: the next ones go straight to the post-filters.
  let preemptedShape: TaskRequest | undefined;
  let noRoom: PlacementFailure | undefined;
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i];
    if (failure !== undefined && sameShape(task, failedShape)) {
      out.placements.push(failure);
      out.unplaced.push({ task, placement: failure });
      continue;
    }
    let p = noRoom !== undefined && sameShape(task, preemptedShape) ? placeByPostFilters(ctx, task, noRoom, opts) : placeInContext(ctx, task, opts);
    if (p.ok && p.noRoom !== undefined) {
      noRoom = p.noRoom;
      preemptedShape = task;
    }
    if (p.ok && p.stalenessMs > maxStalenessMs && p.evictions === undefined && opts.homePartitions?.[p.node.partition] !== true) {
      p = { ok: false, retryable: true, reasons: { [STALE_ONLY]: 1 } };
    }
    out.placements.push(p);
    if (p.ok) {
      out.claims.push(bookPlacement(ctx, task, p));
      if (p.evictions !== undefined) for (const e of p.evictions) out.evictions.push(e);
    } else {
      failure = p;
      failedShape = task;
      out.unplaced.push({ task, placement: p });
    }
  }
  return out;
}

/** Same demand and constraints objects (expandTasks shares them within a group). */
function sameShape(task: TaskRequest, shape: TaskRequest | undefined): boolean {
  return shape !== undefined && task.demand === shape.demand && task.constraints === shape.constraints;
}

/** What placement rules see of a job spec. */
export function placementJobOf(job: JobSpec): PlacementJob {
  return { id: job.id, queue: job.queue, priority: job.priority, gang: job.gang, ...(job.preemptible === true ? { preemptible: true } : {}) };
}

/**
 * placeJob claims the ok placements in task order; checks that (cheaply, by reference) and
 * re-derives the order by task id if a policy version ever does otherwise.
 */
function alignClaimTasks(claims: Transaction['claims'], claimTasks: TaskRequest[], tasks: readonly TaskRequest[]): void {
  let aligned = claims.length === claimTasks.length;
  for (let i = 0; aligned && i < claims.length; i++) if (claims[i].taskId !== claimTasks[i].id) aligned = false;
  if (aligned) return;
  const byId = new Map<string, TaskRequest>();
  for (const t of tasks) byId.set(t.id, t);
  claimTasks.length = 0;
  for (const c of claims) {
    const t = byId.get(c.taskId);
    if (t === undefined) throw new RangeError(`placeJob returned a claim for unknown task ${c.taskId}`);
    claimTasks.push(t);
  }
}
