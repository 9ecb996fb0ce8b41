/**
 * Jobs from the shared durable work consumer, through the replica's job state machine, to an
 * acknowledged outcome. A message carries one job or a batch of them (protocol/job-batch.ts); it
 * is acked only once every job in it is settled: every task committed, or the job reported
 * `unschedulable`/`failed` to cell-state. If any job of it must go back to the stream, the whole
 * message is nak'ed once the others settled. A replica that dies before that leaves the message
 * unacked and JetStream redelivers it to another replica; tasks the first one already committed
 * then come back from the committer as `duplicate_task`, which the replica core counts as placed,
 * so nothing is placed twice.
 *
 * Intake is pulled by room (runtime's pullIntake): about twice the admission window of jobs are
 * held, plus `lookaheadJobs` more for the JobQueue to order among (DRF can only pick among the
 * jobs it holds); the rest waits in the stream, visible to every replica. Jobs parked for quota
 * do not take room (a queue at its max must not stop other queues' jobs from being pulled), up to
 * a hard bound on everything held.
 *
 * The decisions (placement, transactions, what to do with each answer, when to retry or give up)
 * are libs/replica's, the same code the simulator runs; this file only moves messages and waits.
 */
import { setMaxListeners } from 'node:events';
import { jetstream, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConflictReason, fitsWith, type ResourceSpace, type ResourceVector, type TaskRequest, type Transaction, type TxnResult, type ViewNode } from '@tessera/core';
import { decodeJobsMessage, jobOutcomeRequest, okReply, tenantMismatch, type Subjects } from '@tessera/protocol';
import type { PlacementJob } from '@tessera/policy';
import {
  AdmissionControl, admissionPolicy, DrfQueue, FifoQueue, InFlightUsage, SchedulerReplica, placementJobOf, quotaNeed,
  type JobQueue, type JobRun, type JobStep, type QueuedJob, type QueueOrder,
} from '@tessera/replica';
import { pullIntake, type Logger } from '@tessera/runtime';
import PQueue from 'p-queue';
import { formatReasons } from '../core/outcome.ts';
import { attemptTimeoutMs, resendDelayMs, type ResendPolicy } from '../core/resend.ts';
import { backoffLeftMs, prepareJob, runKeyId, type SubmissionInput } from '../core/submission.ts';
import { abandonOnAbort, attemptFailure, isTransient, requestSized, sleep } from './bus.ts';
import { CommitRefusedError, type CommitPipeline } from './commit-pipeline.ts';
import type { JobOutcomeLabel, SchedulerMetrics } from './metrics.ts';
import type { QueueUsageView } from './queue-usage.ts';
import type { ReconnectSignal } from './reconnects.ts';
import type { SyncLoop } from './sync-loop.ts';

/** How often held messages get `working()` (the consumer's ack wait is 30 s). */
export const WORKING_INTERVAL_MS = 10_000;
/** A message whose commits keep being refused is given up as `failed` after this many deliveries. */
export const MAX_DELIVERIES = 5;

export interface JobRunnerDeps {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly space: ResourceSpace;
  readonly log: Logger;
  readonly metrics: SchedulerMetrics;
  readonly sync: SyncLoop;
  readonly pipeline: CommitPipeline;
  readonly schedulerId: string;
  readonly concurrency: number;
  /** Per-attempt timeouts of job outcome reports (see core/resend.ts). */
  readonly resend: ResendPolicy;
  /** Aborts on a NATS reconnect: a report out at that moment is sent again at once. */
  readonly reconnects?: ReconnectSignal;
  readonly now?: () => number;
  /** The order jobs taken from the stream are worked on (default fifo: the stream's order). */
  readonly queueOrder?: QueueOrder;
  /** The committer's queue usage as last shipped to this replica (the JobQueue orders and holds back by it). */
  readonly queueUsage?: QueueUsageView;
  /** Jobs held beyond the working room, for the JobQueue to order among (default 0). */
  readonly lookaheadJobs?: number;
}

/** Everything held (working, waiting, parked) stays under this many times the working room plus lookahead. */
const HELD_LIMIT_FACTOR = 4;
/** A job without room waits this long after its first such round, doubling per round in a row, up to the max (parkForRoom). */
export const ROOM_WAIT_BASE_MS = 1_000;
export const ROOM_WAIT_MAX_MS = 10_000;

/** A job parked for room (parkForRoom). */
interface RoomWait {
  readonly item: QueuedMsg;
  /** Not woken before this (the replica's retry time). */
  readonly earliest: number;
  /** The smallest demand of its pending tasks (per resource), to judge a freed node by. */
  readonly smallest: ResourceVector | undefined;
  timer: NodeJS.Timeout;
}

/** Per resource, the least any of these tasks asks (a node with that much free may take one of them). */
function smallestDemand(tasks: readonly TaskRequest[]): ResourceVector | undefined {
  if (tasks.length === 0) return undefined;
  const out = Float64Array.from(tasks[0].demand);
  for (let i = 1; i < tasks.length; i++) {
    const d = tasks[i].demand;
    for (let k = 0; k < out.length; k++) if (d[k] < out[k]) out[k] = d[k];
  }
  return out;
}

/** A job waiting in the JobQueue for a worker slot; `resume` continues a job parked for quota. */
interface QueuedMsg extends QueuedJob {
  readonly job: HeldJob;
  readonly sub: SubmissionInput;
  readonly resume?: () => Promise<void>;
}

type RoundEnd = JobStep | { readonly kind: 'error'; readonly error: Error };

type OutcomeState = (typeof jobOutcomeRequest.shape.state.options)[number];

/** A message taken from the stream, held until every job in it is settled. */
class HeldMessage {
  /** Jobs of it not settled yet. */
  pending: number;
  /** Some job of it must go back to the stream: the message is nak'ed, not acked. */
  requeue = false;
  /** Acked or nak'ed already (e.g. by `stop`): late settlements change nothing. */
  released = false;
  /** The redelivery delay of the nak: the longest any job of it asked for (a restart's backoff). */
  nakDelayMs: number | undefined;
  /** When `working()` last went out for it (ms, monotonic). */
  private lastWorking = 0;
  constructor(readonly msg: JsMsg, readonly jobs: number) {
    this.pending = jobs;
  }
  /**
   * Extends the ack deadline, at most once a second: every job of a batch asks on every retry
   * round, and each ask is a message to the server (a retry storm of 50,000 rounds sent as many).
   */
  working(now: number): void {
    if (now - this.lastWorking < 1_000) return;
    this.lastWorking = now;
    this.msg.working();
  }
}

/** One job of a held message, as the placement code sees it (the message's delivery facts). */
class HeldJob {
  settled = false;
  constructor(readonly held: HeldMessage) {}
  get info(): JsMsg['info'] {
    return this.held.msg.info;
  }
  get redelivered(): boolean {
    return this.held.msg.redelivered;
  }
  get seq(): number {
    return this.held.msg.seq;
  }
  working(): void {
    this.held.working(performance.now());
  }
}

export class JobRunner {
  private readonly queue: PQueue;
  private readonly held = new Set<HeldMessage>();
  /** Jobs of held messages not settled yet (what the intake's room is counted against). */
  private heldJobs = 0;
  private roomWaiters: (() => void)[] = [];
  /** Jobs parked for quota since the last usage update: they go back to `waiting` with the next one. */
  private parked: QueuedMsg[] = [];
  /** Held jobs parked for quota or room and not resumed yet (here, timed, or back in `waiting`): they take no room. */
  private parkedJobs = 0;
  /** Jobs waiting for room (parkForRoom): each woken by its timer or by a sync that shows room for it. */
  private readonly roomWaits = new Set<RoomWait>();
  /** Consecutive rounds without room of a run (its room waits grow with them). */
  private readonly roomParks = new WeakMap<JobRun, number>();
  /** The demand of the jobs this replica works on, on top of the committer's usage (for ordering). */
  private readonly ownUsage = new InFlightUsage();
  private pulling: Promise<void> | undefined;
  private workingTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  /** Messages pulled and not yet handed to a worker, in the configured order (the JobQueue seam). */
  private readonly waiting: JobQueue<QueuedMsg>;
  /** How many jobs to work on at once and how many retry rounds to run at once (libs/replica admission.ts). */
  readonly admission: AdmissionControl;
  /** Conflict-retry rounds run through this queue: retries never take every slot from first attempts. */
  private readonly retries: PQueue;

  constructor(private readonly d: JobRunnerDeps) {
    this.queue = new PQueue({ concurrency: d.concurrency });
    this.waiting = d.queueOrder === 'drf' ? new DrfQueue<QueuedMsg>(d.space) : new FifoQueue<QueuedMsg>();
    this.admission = new AdmissionControl(admissionPolicy(d.concurrency));
    this.retries = new PQueue({ concurrency: this.admission.retryWindow });
    this.now = d.now ?? Date.now;
    // Every job waiting out a backoff listens on this signal.
    setMaxListeners(0, this.abort.signal);
    d.sync.onRoomFreed = (nodes) => this.roomFreed(nodes);
  }

  /** Jobs taken from the stream and not yet settled. */
  get inFlight(): number {
    return this.heldJobs;
  }

  async start(): Promise<void> {
    const js = jetstream(this.d.nc);
    const consumer = await js.consumers.get(this.d.subjects.jobsStream, this.d.subjects.jobsConsumer);
    this.workingTimer = setInterval(() => {
      const now = performance.now();
      for (const h of this.held) h.working(now);
    }, WORKING_INTERVAL_MS);
    this.workingTimer.unref();
    // Room for about as many jobs as we may work on at once, and as many again queued: messages held
    // here are invisible to the other replicas until acked or redelivered, so holding more would
    // unbalance them (and move the backlog from the stream into this heap).
    // Admission: the room follows the admission window (libs/replica admission.ts), which shrinks
    // while proposals are refused or slow; the rest waits in JetStream, where another replica can take it.
    this.pulling = pullIntake(consumer, {
      room: () => {
        const lookahead = this.d.lookaheadJobs ?? 0;
        const working = 2 * this.admission.jobWindow + lookahead - (this.heldJobs - this.parkedJobs);
        return Math.min(working, HELD_LIMIT_FACTOR * (2 * this.d.concurrency + lookahead) - this.heldJobs);
      },
      roomChanged: () => new Promise<void>((r) => this.roomWaiters.push(r)),
      take: (m) => this.take(m),
      signal: this.abort.signal,
      log: this.d.log,
    }).catch((e) => this.d.log.error({ err: e }, 'job consumer ended'));
  }

  /**
   * Stops pulling, lets running rounds finish for up to `graceMs`, and hands every unfinished job
   * back to the stream (nak) so another replica picks it up at once.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.abort.abort();
    for (const r of this.roomWaiters.splice(0)) r();
    for (const w of this.roomWaits) clearTimeout(w.timer);
    this.roomWaits.clear();
    await Promise.race([this.queue.onIdle(), sleep(graceMs)]);
    this.queue.clear();
    for (const h of [...this.held]) this.releaseMessage(h, 'nak');
    if (this.workingTimer !== undefined) clearInterval(this.workingTimer);
    await this.pulling;
  }

  /** Takes a message off the stream: decodes it once and queues each of its jobs. Returns its job count. */
  private take(m: JsMsg): number {
    if (this.abort.signal.aborted) {
      m.nak();
      return 1;
    }
    const decoded = decodeJobsMessage(m.data);
    if (!decoded.ok) {
      this.d.metrics.refused.inc({ what: 'job_submission' });
      this.d.log.warn({ seq: m.seq, error: decoded.error }, 'refused a job submission that does not decode; dropping it');
      m.term();
      return 1;
    }
    const subs = decoded.value;
    const h = new HeldMessage(m, subs.length);
    this.held.add(h);
    this.heldJobs += subs.length;
    this.d.metrics.jobsInFlight.set(this.heldJobs);
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i] as SubmissionInput;
      const job = new HeldJob(h);
      // A job submitted under another tenant's name is dropped unseen (cell-state drops it too):
      // reporting it failed could fail a real job of that tenant with the same id.
      const forged = tenantMismatch(m.subject, sub.job.tenant);
      if (forged !== undefined) {
        this.d.metrics.refused.inc({ what: 'job_submission' });
        this.d.log.warn({ seq: m.seq, subject: m.subject }, forged.message);
        this.release(job, 'term');
        continue;
      }
      this.waiting.push(queuedOf(`${m.seq}.${i}`, job, sub, this.d.space));
    }
    this.pump();
    return subs.length;
  }

  /** Looks at the waiting jobs again (the queue usage changed: a queue at its max may have room). */
  wake(): void {
    // A job parked for quota is looked at again only on a usage newer than the refusal (not at
    // the rate of commit round trips on a stale one).
    this.ownUsage.onUpdate();
    for (const p of this.parked.splice(0)) this.waiting.push(p);
    if (this.waiting.size > 0) this.pump();
  }

  /** Hands waiting jobs to free worker slots (as many as the admission window has), next first by the JobQueue's order. */
  private pump(): void {
    this.retries.concurrency = this.admission.retryWindow;
    this.d.metrics.admissionWindow.set(this.admission.jobWindow);
    while (this.queue.pending + this.queue.size < this.admission.jobWindow && !this.abort.signal.aborted) {
      const usage = this.d.queueUsage?.current();
      // Only an order or a quota that reads usage needs this replica's own work added to it.
      const next = this.waiting.next(this.d.queueOrder === 'drf' || usage?.tree !== undefined ? this.ownUsage.over(usage) : usage);
      if (next === undefined) break;
      if (next.resume !== undefined) {
        this.parkedJobs--;
        for (const r of this.roomWaiters.splice(0)) r();
      }
      void this.queue.add(() => (next.resume !== undefined ? next.resume() : this.work(next.job, next.sub)))
        .catch((e) => this.d.log.error({ err: e }, 'job worker failed'))
        .finally(() => this.pump());
    }
  }

  /** One job of its message is settled; the message is acked (or nak'ed) with its last job. */
  private release(m: HeldJob, how: 'ack' | 'nak' | 'term', delayMs?: number): void {
    if (m.settled) return;
    m.settled = true;
    const h = m.held;
    this.heldJobs--;
    this.d.metrics.jobsInFlight.set(this.heldJobs);
    for (const r of this.roomWaiters.splice(0)) r();
    if (how === 'nak') {
      h.requeue = true;
      if (delayMs !== undefined) h.nakDelayMs = Math.max(h.nakDelayMs ?? 0, delayMs);
    }
    if (--h.pending > 0) return;
    // 'term' drops a job nobody can use (no usable id, a forged tenant); the message itself is done with.
    this.releaseMessage(h, h.requeue ? 'nak' : 'ack', h.requeue ? h.nakDelayMs : undefined);
  }

  private releaseMessage(h: HeldMessage, how: 'ack' | 'nak', delayMs?: number): void {
    if (h.released) return;
    h.released = true;
    if (this.held.delete(h) && h.pending > 0) {
      // Released with jobs unsettled (stop): they no longer count against the room.
      this.heldJobs -= h.pending;
      this.d.metrics.jobsInFlight.set(this.heldJobs);
    }
    if (how === 'ack') h.msg.ack();
    else h.msg.nak(delayMs);
  }

  private settle(m: HeldJob, outcome: JobOutcomeLabel): void {
    this.d.metrics.jobs.inc({ outcome });
    this.release(m, outcome === 'requeued' ? 'nak' : 'ack', outcome === 'requeued' ? 1_000 : undefined);
  }

  private async work(m: HeldJob, sub: SubmissionInput): Promise<void> {
    try {
      if (this.abort.signal.aborted) return this.release(m, 'nak');
      // A restarted task waits out its backoff in the stream, not in this replica's slots.
      const backoff = backoffLeftMs(sub, this.now());
      if (backoff > 0) return this.release(m, 'nak', backoff);
      const prepared = prepareJob(sub, this.d.space);
      switch (prepared.kind) {
        case 'invalid':
          if (prepared.jobId === undefined) {
            this.d.log.warn({ seq: m.seq, reason: prepared.reason }, 'dropping an invalid job without a usable id');
            this.d.metrics.jobs.inc({ outcome: 'failed' });
            return this.release(m, 'term');
          }
          return await this.giveUp(m, prepared.jobId, 'failed', prepared.reason);
        case 'unschedulable':
          return await this.giveUp(m, prepared.job.id, 'unschedulable', prepared.reason);
        case 'empty':
          return this.settle(m, 'placed');
        case 'ready':
          if (m.redelivered) this.d.log.info({ job: prepared.job.id, deliveries: m.info.deliveryCount }, 'job redelivered; tasks already committed count as placed');
          if (this.d.queueUsage?.queues !== undefined && !this.d.queueUsage.queues.isLeaf(prepared.job.queue)) {
            return await this.giveUp(m, prepared.job.id, 'failed', `unknown queue "${prepared.job.queue}"`);
          }
          return await this.place(m, sub, prepared.job.id, prepared.job.gang, prepared.tasks, placementJobOf(prepared.job));
      }
    } catch (e) {
      this.d.log.error({ err: e, seq: m.seq }, 'job failed in the scheduler; handing it back to the stream');
      this.settle(m, 'requeued');
    }
  }

  /** Reports the outcome to cell-state, then acks; if cell-state cannot be told, the job goes back to the stream. */
  private async giveUp(m: HeldJob, jobId: string, state: OutcomeState, reason: string): Promise<void> {
    if (!(await this.report(jobId, state, reason))) return this.settle(m, 'requeued');
    this.d.log.info({ job: jobId, state, reason }, 'job given up');
    this.settle(m, state);
  }

  private async report(jobId: string, state: OutcomeState, reason: string): Promise<boolean> {
    const body = { jobId, schedulerId: this.d.schedulerId, state, reason };
    for (let attempt = 1; ; attempt++) {
      try {
        await requestSized(this.d.nc, this.d.subjects.jobOutcome, body, okReply, attemptTimeoutMs(attempt, this.d.resend), this.d.reconnects?.signal);
        return true;
      } catch (e) {
        if (!isTransient(e) || attempt >= 6 || this.abort.signal.aborted) {
          this.d.log.error({ err: e, job: jobId, state }, 'cannot report the job outcome');
          return false;
        }
        await sleep(resendDelayMs(attemptFailure(e), attempt), this.abort.signal);
      }
    }
  }

  private async place(m: HeldJob, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, parked?: { run: JobRun; own: number }): Promise<void> {
    const replica = await this.d.sync.replicaReady();
    const start = this.now();
    // The run is admitted at submission time, so its wait limit and the adaptive mode's delay
    // count from when the tenant submitted, not from when this replica got to it.
    const submittedAt = Number.isFinite(sub.submittedAt) && sub.submittedAt <= start ? sub.submittedAt : start;
    const run = parked?.run ?? replica.admitTasks(runKeyId(jobId, sub.attempt, m.info.deliveryCount), gang, tasks, submittedAt, info);
    // What the job may still claim counts as its queue's usage while it works (DRF between updates).
    const queue = info.queue ?? 'default';
    const demand = info.preemptible === true ? undefined : totalDemand(run.pending, this.d.space);
    if (demand !== undefined) this.ownUsage.start(queue, demand);
    try {
      return await this.placeRounds(m, sub, jobId, gang, tasks, info, run, parked?.own ?? 0, replica);
    } finally {
      if (demand !== undefined) this.ownUsage.done(queue, demand);
    }
  }

  /** The job's proposal rounds until it is placed, given up, parked for quota or handed back. */
  private async placeRounds(m: HeldJob, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, run: JobRun, ownBefore: number, first: SchedulerReplica): Promise<void> {
    const metrics = this.d.metrics;
    let replica = first;
    let own = ownBefore;
    const jobTasks = tasks;
    let noRoomBefore: Set<TaskRequest> | undefined;
    // The last round proposed nothing: every task it tried found no room (not a refusal).
    let lastRoundEmpty = false;
    const preempts = this.d.sync.preempts;
    // Rules about other jobs' tasks are judged on the view's task lists: have the syncs carry them.
    const readsOtherJobs = jobTasks.some((t) => t.rules?.affinity !== undefined || t.rules?.antiAffinity !== undefined);
    const oneRound = async (): Promise<RoundEnd> => {
      if (readsOtherJobs) await this.d.sync.wantTasks();
      replica = await this.d.sync.replicaReady();
      const t = this.now();
      const retriedBefore = run.retriedClaims;
      const proposal = replica.propose(run, t);
      // Retries: claims proposed again after the committer refused them, and tasks tried again
      // after a round that found no room for them. Tasks a round left untried (the replica's
      // maxTasksPerRound) are first attempts, not retries.
      if (run.retriedClaims > retriedBefore) metrics.retries.inc({ cause: 'conflict' }, run.retriedClaims - retriedBefore);
      const tasks = proposal.tasks;
      const placements = proposal.placements;
      if (noRoomBefore !== undefined) {
        let again = 0;
        for (let i = 0; i < tasks.length; i++) if (noRoomBefore.has(tasks[i])) again++;
        if (again > 0) metrics.retries.inc({ cause: 'no_room' }, again);
        noRoomBefore = undefined;
      }
      for (let i = 0; i < placements.length; i++) {
        const p = placements[i];
        if (p.ok) metrics.staleness.observe(p.stalenessMs > 0 ? p.stalenessMs / 1000 : 0);
        else if (p.retryable) {
          (noRoomBefore ??= new Set()).add(tasks[i]);
          // Preemption may help it: the next syncs carry the running tasks it would evict.
          if (preempts && info.preemptible !== true) void this.d.sync.wantTasks();
        }
      }
      lastRoundEmpty = proposal.txns.length === 0;
      if (lastRoundEmpty) return stepAfterEmptyRound(run);
      this.roomParks.delete(run);
      const end = await this.commitRound(replica, run, proposal.txns);
      own += end.own;
      return end.step;
    };
    for (;;) {
      if (this.abort.signal.aborted) return this.settle(m, 'requeued');
      // A round after a conflict is a retry: it waits for one of the admission's retry slots.
      const step = run.conflictRounds > 0 ? await this.retries.add(oneRound) : await oneRound();
      switch (step.kind) {
        case 'placed': {
          this.admission.observeJobDone(run.conflictRounds === 0);
          const done = this.now();
          if (own > 0) metrics.jobDelay.observe(Math.max(0, done - sub.submittedAt) / 1000);
          return this.settle(m, 'placed');
        }
        case 'unschedulable':
          return await this.giveUp(m, jobId, 'unschedulable', formatReasons(step.reasons));
        case 'retry': {
          m.working();
          // Partitions the committer's refusals showed stale are fetched during the backoff, and
          // the next round waits for them: proposing again on the same stale view would only be
          // refused again (after an outage, for every node that changed meanwhile).
          const stale = replica.takeRefresh(run);
          const refreshed = stale.length > 0 ? this.d.sync.refresh(stale) : undefined;
          // A job that found no room waits outside the worker slots, like one parked for quota:
          // a backlog of jobs without room must not hold every slot while the jobs behind it (a
          // higher-priority queue's, or one that fits) wait in the stream.
          if (lastRoundEmpty && refreshed === undefined) {
            // The next round (after the park) tries these tasks again: count them now.
            if (noRoomBefore !== undefined) metrics.retries.inc({ cause: 'no_room' }, noRoomBefore.size);
            return this.parkForRoom(m, sub, jobId, gang, jobTasks, info, run, own, step.at, preempts && info.preemptible !== true);
          }
          // Timers have 1 ms resolution; propose refuses a run before its retryAt.
          while (this.now() < step.at && !this.abort.signal.aborted) await sleep(Math.ceil(step.at - this.now()) + 1, this.abort.signal);
          if (refreshed !== undefined) await abandonOnAbort(refreshed, this.abort.signal).catch(() => undefined);
          continue;
        }
        case 'quota':
          // The queue is at its max: wait in the JobQueue (not in a worker slot, spending no
          // retry budget) until the usage the sync replies carry shows room, then go on.
          return this.park(m, sub, jobId, gang, jobTasks, info, run, own);
        case 'error':
          return await this.inDoubt(m, replica, run, jobId, step.error);
        case 'wait':
        case 'ignored':
          // commitRound resolves only on a final step; anything else is a bug in the pairing.
          throw new Error(`job ${jobId}: round ended with step ${step.kind}`);
      }
    }
  }

  /**
   * A job whose round found no room waits outside the worker slots: it takes no room (like a
   * quota park) and goes back to the JobQueue, where the queue order decides who gets the next
   * slot, when a sync shows a node with room for its smallest pending task (after its own retry
   * time `at`), or at the latest when its wait is over. The wait doubles with each round in a row
   * without room, from ROOM_WAIT_BASE_MS up to ROOM_WAIT_MAX_MS (kube-scheduler's unschedulable
   * queue: woken by cluster events, with a backoff): a backlog of jobs without room retrying every
   * second spent the replicas' CPU on millions of rounds that could not place anything (1,000
   * nodes, 800 jobs waiting: 2 million task attempts per replica in two minutes). A job that may
   * preempt keeps the replica's short backoff: its next round is what finds victims.
   */
  private parkForRoom(m: HeldJob, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, run: JobRun, own: number, at: number, mayPreempt: boolean): void {
    const item = this.parkedItem(m, sub, jobId, gang, tasks, info, run, own, 'waiting for room');
    const now = this.now();
    const parks = (this.roomParks.get(run) ?? 0) + 1;
    this.roomParks.set(run, parks);
    const waitMs = mayPreempt ? 0 : Math.min(ROOM_WAIT_MAX_MS, ROOM_WAIT_BASE_MS * 2 ** Math.min(parks - 1, 20));
    const wakeAt = Math.max(at, now + waitMs);
    // +1: timers have 1 ms resolution, and propose refuses a run before its retryAt.
    const w: RoomWait = { item, earliest: at, smallest: smallestDemand(run.pending), timer: setTimeout(() => this.wakeFromRoomWait(w), Math.ceil(wakeAt - now) + 1) };
    w.timer.unref();
    this.roomWaits.add(w);
  }

  private wakeFromRoomWait(w: RoomWait): void {
    if (!this.roomWaits.delete(w)) return;
    clearTimeout(w.timer);
    if (this.abort.signal.aborted) return;
    this.waiting.push(w.item);
    this.pump();
  }

  /** A sync gave these nodes room: the jobs waiting for room that one of them may take go back to the JobQueue. */
  private roomFreed(nodes: readonly ViewNode[]): void {
    if (this.roomWaits.size === 0) return;
    const now = this.now();
    for (const w of this.roomWaits) {
      if (now < w.earliest) continue;
      if (w.smallest === undefined || nodes.some((n) => n.condition === 'ready' && fitsWith(n.capacity, n.allocated, n.reserved, w.smallest!))) this.wakeFromRoomWait(w);
    }
  }

  private park(m: HeldJob, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, run: JobRun, own: number): void {
    this.parked.push(this.parkedItem(m, sub, jobId, gang, tasks, info, run, own, 'a quota wait'));
  }

  /** A held job leaving its worker slot to wait (it takes no room meanwhile); `resume` goes on with its run. */
  private parkedItem(m: HeldJob, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, run: JobRun, own: number, after: string): QueuedMsg {
    m.working();
    this.parkedJobs++;
    for (const r of this.roomWaiters.splice(0)) r();
    return {
      id: `${m.seq}.${jobId}`, queue: info.queue ?? 'default', priority: info.priority ?? 100, submittedAt: run.submittedAt, job: m, sub,
      ...(info.preemptible === true ? {} : { need: quotaNeed(run.pending.map((t) => t.demand), gang, this.d.space) }),
      resume: () => this.place(m, sub, jobId, gang, tasks, info, { run, own }).catch((e) => {
        this.d.log.error({ err: e, job: jobId }, `job failed in the scheduler after ${after}; handing it back to the stream`);
        this.settle(m, 'requeued');
      }),
    };
  }

  /** Sends the round's transactions and applies every answer; resolves with the final step. */
  private commitRound(replica: SchedulerReplica, run: JobRun, txns: readonly Transaction[]): Promise<{ step: RoundEnd; own: number }> {
    return new Promise((resolve) => {
      let outstanding = txns.length;
      let own = 0;
      let error: Error | undefined;
      let last: JobStep = { kind: 'wait' };
      const metrics = this.d.metrics;
      const sentAt = this.now();
      for (const txn of txns) {
        this.d.pipeline.propose(txn, (r: TxnResult | Error) => {
          if (r instanceof Error) {
            error ??= r;
          } else {
            // A replayed result is still this run's own commit (its keys are unique to the run):
            // the reply to an earlier send of the same request was lost.
            own += r.committed.length;
            if (r.committed.length > 0) metrics.placements.inc(r.committed.length);
            let refused = 0;
            for (const x of r.rejected) {
              metrics.conflicts.inc({ reason: x.reason });
              if (x.reason !== ConflictReason.duplicate_task) refused++;
            }
            if (txn.evictions !== undefined && txn.evictions.length > 0 && r.replayed !== true) {
              metrics.preemptionAttempts.inc({ outcome: (r.evicted?.length ?? 0) > 0 ? 'committed' : 'refused' });
            }
            const now = this.now();
            this.admission.observeAnswer(txn.claims.length - refused, refused, now - sentAt, now);
            last = replica.onResult(run, r, this.now());
            if (r.rejected.length > 0) this.reportBadNodes(replica);
          }
          if (--outstanding === 0) resolve({ step: error !== undefined ? { kind: 'error', error } : last, own });
        });
      }
    });
  }

  /** Nodes the replica just held ineligible (bad-node tracking): a warning each, and the gauge. */
  private reportBadNodes(replica: SchedulerReplica): void {
    const marks = replica.takeBadNodeMarks();
    this.d.metrics.badNodes.set(replica.badNodeCount);
    for (const mk of marks) {
      this.d.metrics.badNodesMarked.inc();
      this.d.log.warn({ node: mk.nodeId, refusals: mk.refusals, forMs: Math.round(mk.until - this.now()) }, 'node held ineligible: the committer kept refusing claims on it');
    }
  }

  /**
   * Some of the round's transactions have no answer (the committer stayed unreachable, or
   * refused the request). Their reservations are dropped and the job goes back to the stream;
   * whoever takes it next finds the tasks that did commit as duplicates. A job whose requests
   * keep being refused is reported failed instead of circling for ever.
   */
  private async inDoubt(m: HeldJob, replica: SchedulerReplica, run: JobRun, jobId: string, error: Error): Promise<void> {
    abandonInFlight(replica, run);
    if (error instanceof CommitRefusedError && m.info.deliveryCount >= MAX_DELIVERIES) {
      return await this.giveUp(m, jobId, 'failed', `the committer refused this job's proposals ${m.info.deliveryCount} times: ${error.message}`);
    }
    this.d.log.warn({ job: jobId, err: error }, 'commit outcome unknown; handing the job back to the stream');
    this.settle(m, 'requeued');
  }
}

/** The final step of a round that proposed nothing (propose already moved the run). */
function stepAfterEmptyRound(run: JobRun): JobStep {
  switch (run.state) {
    case 'backoff':
      return { kind: 'retry', at: run.retryAt };
    case 'unschedulable':
      return { kind: 'unschedulable', reasons: run.reasons };
    case 'placed':
      return { kind: 'placed' };
    default:
      throw new Error(`job ${run.jobId}: propose proposed nothing and left the run ${run.state}`);
  }
}

/**
 * Adapter for what libs/replica has no call for yet: dropping the view reservations of a run's
 * unanswered transactions when the job is handed back to the stream.
 */
export function abandonInFlight(replica: SchedulerReplica, run: JobRun): void {
  for (const txn of replica.inFlightTxns(run)) {
    for (const c of txn.claims) replica.view.forget(c.nodeId, c.demand, c.devices);
  }
  run.inFlight.clear();
}

/**
 * What the JobQueue orders a job message by, read from the submission without validating it (the
 * worker validates it in full): queue, priority, submit time. A message that does not decode is
 * queued as `default` and refused by its worker.
 */
/** The sum of the tasks' demands. */
function totalDemand(tasks: readonly TaskRequest[], space: ResourceSpace): Float64Array {
  const total = space.zero();
  for (const t of tasks) for (let k = 0; k < total.length; k++) total[k] += t.demand[k];
  return total;
}

function queuedOf(id: string, job: HeldJob, sub: SubmissionInput, space: ResourceSpace): QueuedMsg {
  const spec = sub.job;
  const demands: Float64Array[] = [];
  if (Array.isArray(spec.tasks)) {
    for (const g of spec.tasks as { resources?: unknown; count?: unknown }[]) {
      const v = space.parse(g?.resources);
      if (v instanceof Float64Array) for (let i = 0; i < (typeof g.count === 'number' && spec.gang === true ? Math.min(g.count, 200_000) : 1); i++) demands.push(v);
    }
  }
  return {
    id,
    queue: typeof spec.queue === 'string' ? spec.queue : 'default',
    priority: typeof spec.priority === 'number' ? spec.priority : 100,
    submittedAt: typeof sub.submittedAt === 'number' ? sub.submittedAt : 0,
    job,
    sub,
    ...(spec.preemptible === true || demands.length === 0 ? {} : { need: quotaNeed(demands, spec.gang === true, space) }),
  };
}

