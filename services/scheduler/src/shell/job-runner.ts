/**
 * Jobs from the shared durable work consumer, through the replica's job state machine, to an
 * acknowledged outcome. Each job message is acked only once its outcome is settled: every task
 * committed, or the job reported `unschedulable`/`failed` to cell-state. A replica that dies
 * before that leaves the message unacked and JetStream redelivers it to another replica; tasks
 * the first one already committed then come back from the committer as `duplicate_task`, which
 * the replica core counts as placed, so nothing is placed twice.
 *
 * The decisions (placement, transactions, what to do with each answer, when to retry or give up)
 * are libs/replica's, the same code the simulator runs; this file only moves messages and waits.
 */
import { setMaxListeners } from 'node:events';
import { jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ResourceSpace, TaskRequest, Transaction, TxnResult } from '@tessera/core';
import { decodeAs, jobOutcomeRequest, jobSubmission, okReply, tenantMismatch, type Subjects } from '@tessera/protocol';
import type { PlacementJob } from '@tessera/policy';
import { DrfQueue, FifoQueue, SchedulerReplica, placementJobOf, type JobQueue, type JobRun, type JobStep, type QueuedJob, type QueueOrder } from '@tessera/replica';
import type { Logger } from '@tessera/runtime';
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
}

/** A job message waiting in the JobQueue for a worker slot; `resume` continues a job parked for quota. */
interface QueuedMsg extends QueuedJob {
  readonly msg: JsMsg;
  readonly resume?: () => Promise<void>;
}

type RoundEnd = JobStep | { readonly kind: 'error'; readonly error: Error };

type OutcomeState = (typeof jobOutcomeRequest.shape.state.options)[number];

export class JobRunner {
  private readonly queue: PQueue;
  private readonly held = new Set<JsMsg>();
  private messages: ConsumerMessages | undefined;
  private pulling: Promise<void> | undefined;
  private workingTimer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  /** Messages pulled and not yet handed to a worker, in the configured order (the JobQueue seam). */
  private readonly waiting: JobQueue<QueuedMsg>;
  private roomWaiters: (() => void)[] = [];
  /** Jobs parked for quota since the last usage update: they go back to `waiting` with the next one. */
  private parked: QueuedMsg[] = [];

  constructor(private readonly d: JobRunnerDeps) {
    this.queue = new PQueue({ concurrency: d.concurrency });
    this.waiting = d.queueOrder === 'drf' ? new DrfQueue<QueuedMsg>(d.space) : new FifoQueue<QueuedMsg>();
    this.now = d.now ?? Date.now;
    // Every job waiting out a backoff listens on this signal.
    setMaxListeners(0, this.abort.signal);
  }

  /** Jobs taken from the stream and not yet settled. */
  get inFlight(): number {
    return this.held.size;
  }

  async start(): Promise<void> {
    const js = jetstream(this.d.nc);
    const consumer = await js.consumers.get(this.d.subjects.jobsStream, this.d.subjects.jobsConsumer);
    // Pull about as many as we work on at once: messages buffered here are invisible to the
    // other replicas until acked or redelivered, so a large prefetch would unbalance them.
    const msgs = await consumer.consume({ max_messages: Math.max(8, Math.min(this.d.concurrency, 1_000)) });
    this.messages = msgs;
    this.workingTimer = setInterval(() => {
      for (const m of this.held) m.working();
    }, WORKING_INTERVAL_MS);
    this.workingTimer.unref();
    this.pulling = (async () => {
      for await (const m of msgs) {
        if (this.abort.signal.aborted) {
          m.nak();
          continue;
        }
        this.hold(m);
        this.waiting.push(queuedOf(m, this.d.space));
        this.pump();
        if (this.waiting.size >= this.d.concurrency) await new Promise<void>((r) => this.roomWaiters.push(r));
      }
    })().catch((e) => this.d.log.error({ err: e }, 'job consumer ended'));
  }

  /**
   * Stops pulling, lets running rounds finish for up to `graceMs`, and hands every unfinished job
   * back to the stream (nak) so another replica picks it up at once.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.abort.abort();
    await this.messages?.close().catch(() => undefined);
    for (const w of this.roomWaiters.splice(0)) w();
    await Promise.race([this.queue.onIdle(), sleep(graceMs)]);
    this.queue.clear();
    for (const m of [...this.held]) this.release(m, 'nak');
    if (this.workingTimer !== undefined) clearInterval(this.workingTimer);
    await this.pulling;
  }

  /** Looks at the waiting jobs again (the queue usage changed: a queue at its max may have room). */
  wake(): void {
    // A job parked for quota is looked at again only on a usage newer than the refusal (not at
    // the rate of commit round trips on a stale one).
    for (const p of this.parked.splice(0)) this.waiting.push(p);
    if (this.waiting.size > 0) this.pump();
  }

  /** Hands waiting jobs to free worker slots, next first by the JobQueue's order. */
  private pump(): void {
    while (this.queue.pending + this.queue.size < this.d.concurrency && !this.abort.signal.aborted) {
      const next = this.waiting.next(this.d.queueUsage?.current());
      if (next === undefined) break;
      void this.queue.add(() => (next.resume !== undefined ? next.resume() : this.work(next.msg)))
        .catch((e) => this.d.log.error({ err: e }, 'job worker failed'))
        .finally(() => this.pump());
    }
    if (this.waiting.size < Math.ceil(this.d.concurrency / 2) && this.roomWaiters.length > 0) {
      const ws = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of ws) w();
    }
  }

  private hold(m: JsMsg): void {
    this.held.add(m);
    this.d.metrics.jobsInFlight.set(this.held.size);
  }

  private release(m: JsMsg, how: 'ack' | 'nak' | 'term', delayMs?: number): void {
    if (!this.held.delete(m)) return;
    this.d.metrics.jobsInFlight.set(this.held.size);
    if (how === 'ack') m.ack();
    else if (how === 'term') m.term();
    else m.nak(delayMs);
  }

  private settle(m: JsMsg, outcome: JobOutcomeLabel): void {
    this.d.metrics.jobs.inc({ outcome });
    this.release(m, outcome === 'requeued' ? 'nak' : 'ack', outcome === 'requeued' ? 1_000 : undefined);
  }

  private async work(m: JsMsg): Promise<void> {
    try {
      if (this.abort.signal.aborted) return this.release(m, 'nak');
      const decoded = decodeAs(m.data, jobSubmission);
      if (!decoded.ok) {
        this.d.metrics.refused.inc({ what: 'job_submission' });
        this.d.log.warn({ seq: m.seq, error: decoded.error }, 'refused a job submission that does not decode; dropping it');
        return this.release(m, 'term');
      }
      const sub = decoded.value as SubmissionInput;
      // A job submitted under another tenant's name is dropped unseen (cell-state drops it too):
      // reporting it failed could fail a real job of that tenant with the same id.
      const forged = tenantMismatch(m.subject, sub.job.tenant);
      if (forged !== undefined) {
        this.d.metrics.refused.inc({ what: 'job_submission' });
        this.d.log.warn({ seq: m.seq, subject: m.subject }, forged.message);
        return this.release(m, 'term');
      }
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
  private async giveUp(m: JsMsg, jobId: string, state: OutcomeState, reason: string): Promise<void> {
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

  private async place(m: JsMsg, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, parked?: { run: JobRun; own: number }): Promise<void> {
    const metrics = this.d.metrics;
    let replica = await this.d.sync.replicaReady();
    const start = this.now();
    // The run is admitted at submission time, so its wait limit and the adaptive mode's delay
    // count from when the tenant submitted, not from when this replica got to it.
    const submittedAt = Number.isFinite(sub.submittedAt) && sub.submittedAt <= start ? sub.submittedAt : start;
    const run = parked?.run ?? replica.admitTasks(runKeyId(jobId, sub.attempt, m.info.deliveryCount), gang, tasks, submittedAt, info);
    let own = parked?.own ?? 0;
    const jobTasks = tasks;
    let noRoomBefore: Set<TaskRequest> | undefined;
    for (;;) {
      if (this.abort.signal.aborted) return this.settle(m, 'requeued');
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
        else if (p.retryable) (noRoomBefore ??= new Set()).add(tasks[i]);
      }
      let step: RoundEnd;
      if (proposal.txns.length > 0) {
        const end = await this.commitRound(replica, run, proposal.txns);
        own += end.own;
        step = end.step;
      } else {
        step = stepAfterEmptyRound(run);
      }
      switch (step.kind) {
        case 'placed': {
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

  private park(m: JsMsg, sub: SubmissionInput, jobId: string, gang: boolean, tasks: TaskRequest[], info: PlacementJob, run: JobRun, own: number): void {
    m.working();
    this.parked.push({
      id: String(m.seq), queue: info.queue ?? 'default', priority: info.priority ?? 100, submittedAt: run.submittedAt, msg: m,
      ...(info.preemptible === true ? {} : { need: needOf(run.pending.map((t) => t.demand), gang, this.d.space) }),
      resume: () => this.place(m, sub, jobId, gang, tasks, info, { run, own }).catch((e) => {
        this.d.log.error({ err: e, job: jobId }, 'job failed in the scheduler after a quota wait; handing it back to the stream');
        this.settle(m, 'requeued');
      }),
    });
  }

  /** Sends the round's transactions and applies every answer; resolves with the final step. */
  private commitRound(replica: SchedulerReplica, run: JobRun, txns: readonly Transaction[]): Promise<{ step: RoundEnd; own: number }> {
    return new Promise((resolve) => {
      let outstanding = txns.length;
      let own = 0;
      let error: Error | undefined;
      let last: JobStep = { kind: 'wait' };
      const metrics = this.d.metrics;
      for (const txn of txns) {
        this.d.pipeline.propose(txn, (r: TxnResult | Error) => {
          if (r instanceof Error) {
            error ??= r;
          } else {
            // A replayed result is still this run's own commit (its keys are unique to the run):
            // the reply to an earlier send of the same request was lost.
            own += r.committed.length;
            if (r.committed.length > 0) metrics.placements.inc(r.committed.length);
            for (const x of r.rejected) metrics.conflicts.inc({ reason: x.reason });
            last = replica.onResult(run, r, this.now());
          }
          if (--outstanding === 0) resolve({ step: error !== undefined ? { kind: 'error', error } : last, own });
        });
      }
    });
  }

  /**
   * Some of the round's transactions have no answer (the committer stayed unreachable, or
   * refused the request). Their reservations are dropped and the job goes back to the stream;
   * whoever takes it next finds the tasks that did commit as duplicates. A job whose requests
   * keep being refused is reported failed instead of circling for ever.
   */
  private async inDoubt(m: JsMsg, replica: SchedulerReplica, run: JobRun, jobId: string, error: Error): Promise<void> {
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
    for (const c of txn.claims) replica.view.forget(c.nodeId, c.demand);
  }
  run.inFlight.clear();
}

/**
 * What the JobQueue orders a job message by, read from the submission without validating it (the
 * worker validates it in full): queue, priority, submit time. A message that does not decode is
 * queued as `default` and refused by its worker.
 */
function queuedOf(m: JsMsg, space: ResourceSpace): QueuedMsg {
  const decoded = decodeAs(m.data, jobSubmission);
  const job = decoded.ok ? (decoded.value.job as Record<string, unknown>) : {};
  const sub = decoded.ok ? (decoded.value as { submittedAt?: unknown }) : {};
  const demands: Float64Array[] = [];
  if (Array.isArray(job.tasks)) {
    for (const g of job.tasks as { resources?: unknown; count?: unknown }[]) {
      const v = space.parse(g?.resources);
      if (v instanceof Float64Array) for (let i = 0; i < (typeof g.count === 'number' && job.gang === true ? Math.min(g.count, 200_000) : 1); i++) demands.push(v);
    }
  }
  return {
    id: String(m.seq),
    queue: typeof job.queue === 'string' ? job.queue : 'default',
    priority: typeof job.priority === 'number' ? job.priority : 100,
    submittedAt: typeof sub.submittedAt === 'number' ? sub.submittedAt : 0,
    msg: m,
    ...(job.preemptible === true || demands.length === 0 ? {} : { need: needOf(demands, job.gang === true, space) }),
  };
}

/** What must fit under the queue's max for the job to progress: a gang's total, else its smallest task. */
function needOf(demands: readonly Float64Array[], gang: boolean, space: ResourceSpace): Float64Array {
  const out = space.zero();
  if (gang) {
    for (const d of demands) for (let k = 0; k < d.length; k++) out[k] += d[k];
    return out;
  }
  let best = Infinity;
  for (const d of demands) {
    let m = 0;
    for (let k = 0; k < d.length; k++) if (d[k] > m) m = d[k];
    if (m < best) {
      best = m;
      out.set(d);
    }
  }
  return out;
}
