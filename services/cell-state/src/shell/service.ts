/**
 * The cell-state's NATS side: serves every request subject, reads the jobs stream into the job
 * table, marks silent nodes lost, and carries out the effects of applied records (assignments to
 * agents, jobs handed back for rescheduling). Every state change goes through the LogWriter.
 *
 * Only the leader serves (high availability): `start()` at a promotion, `stop()` at a step-down,
 * any number of times. Subscriptions are plain (no queue group): a deposed leader that is still
 * subscribed — e.g. frozen, or not yet aware — gets a copy of each request but stays silent
 * (`isLeading()` is asked on every request), while the leader answers.
 */
import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { validateJobSpec, type Allocation } from '@tessera/core';
import {
  commitRequestFast, decodeJobsMessage, encode, errorReply, ErrorCode, heartbeatRequestFast, jobOutcomeRequest,
  explainRequest, listingRequest, nodeAdminRequest, queuesApplyRequest, queuesListingRequest, type WireQueueUsage, registerRequest, sameResources, syncRequest, syncToWire, taskEndedRequestFast, txnFromWire,
  txnResultToWire, agentMismatch, RefusedReason, tenantMismatch, type Assignment, type ErrorReply, type JobSubmission, type Subjects,
} from '@tessera/protocol';
import type { KV } from '@nats-io/kv';
import { pullIntake, serve, type Logger } from '@tessera/runtime';
import type { z } from 'zod';
import {
  assignmentOf, byAgent, taskEndedRecord, isRefusal, ownershipRefusal, reconcileHeartbeat,
  registrationRecord, type Refusal,
} from '../core/agents.ts';
import { listJobs, listNodes, listPartitions } from '../core/listings.ts';
import { withRunningTasks } from '../core/running-tasks.ts';
import { listQueues, queueUsageWire, unknownQueueReason } from '../core/queues.ts';
import { applyAndStore, loadStoredQueues } from './queues.ts';
import { drainsDue, lifecycleReply, planLifecycle } from '../core/node-lifecycle.ts';
import { ConflictMemory } from '../core/conflict-memory.ts';
import { explainJob } from '../core/explain.ts';
import { decideLiveness, livenessPolicy, type LivenessPolicy } from '../core/liveness.ts';
import type { JobRecord } from '../core/log-records.ts';
import { pendingRequeues, type ApplyEffects, type CellModel, type Requeue } from '../core/model.ts';
import type { CellMetrics } from './metrics.ts';
import type { LogWriter } from './writer.ts';

export interface ServiceOptions {
  readonly subjects: Subjects;
  readonly heartbeatTimeoutMs: number;
  readonly assignGraceMs: number;
  readonly maxMessageBytes: number;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: CellMetrics;
  /** Asked on every request: only a leader with a valid lease answers (a deposed one stays silent). */
  readonly isLeading: () => boolean;
  /**
   * A connection of its own for the sync subject: sync requests are small and must not wait in the
   * socket behind megabytes of commit requests (a starved sync makes every view stale, and a stale
   * view makes the conflicts that fill the socket). Default: the main connection.
   */
  readonly syncNc?: NatsConnection;
  /** Liveness tuning beyond the heartbeat timeout (tests); defaults from `livenessPolicy`. */
  readonly liveness?: Partial<Omit<LivenessPolicy, 'timeoutMs'>>;
  /** The config bucket (the queue file lives there); without it queues cannot be applied. */
  readonly config?: KV;
}

const MAX_ASSIGNMENTS_PER_MESSAGE = 5_000;
const QUEUE_USAGE_MS = 100;
/** Jobs whose claims were committed before the job was read; bounded so a stray job id cannot grow it forever. */
const MAX_DEFERRED_JOBS = 10_000;
/** Job records the intake has in flight at most (taken from the stream, not yet durable). */
const MAX_INTAKE_JOBS = 20_000;

export class CellStateService {
  private readonly js: JetStreamClient;
  private readonly subs: Subscription[] = [];
  /** Node id → ms last heard (not logged: after a restart every node gets a fresh timeout). */
  readonly lastHeard = new Map<string, number>();
  /** Node id → ms of its last real heartbeat (clock restarts do not count): evidence the cell-state hears agents. */
  private readonly lastBeat = new Map<string, number>();
  private readonly liveness: LivenessPolicy;
  /** When the liveness check last ran (undefined: not since serving started or the clocks restarted). */
  private lastCheck: number | undefined;
  /** Our own NATS connection is down: silence proves nothing until it is back (then the clocks restart). */
  private connectionDown = false;
  private readonly lostInFlight = new Set<string>();
  private readonly runningInFlight = new Set<string>();
  private readonly endedInFlight = new Set<string>();
  private readonly stoppedInFlight = new Set<string>();
  /** Committed claims on nodes whose preemption victims are still stopping: sent once the node is unblocked. */
  private readonly awaitingStop = new Map<string, Allocation[]>();
  /** Committed claims of jobs not read yet, by job id: their assignments go out when the job arrives. */
  private readonly deferred = new Map<string, Allocation[]>();
  private livenessTimer: NodeJS.Timeout | undefined;
  /** The queue usage sync replies carry, recomputed at most every QUEUE_USAGE_MS (it sums over every node). */
  private queueUsage: { at: number; seq: number; value: WireQueueUsage } | undefined;
  private jobIntakeAbort: AbortController | undefined;
  private jobsLoop: Promise<void> | undefined;
  /** Job records of the intake not durable yet, and who waits for that number to drop. */
  private intakeJobs = 0;
  private intakeWaiters: (() => void)[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly model: CellModel,
    private readonly writer: LogWriter,
    private readonly opts: ServiceOptions,
  ) {
    this.js = jetstream(nc);
    this.liveness = livenessPolicy(opts.heartbeatTimeoutMs, opts.liveness);
    void this.watchConnection();
  }

  /**
   * Every node's liveness clock starts now: at a takeover (after replay), and whenever the
   * cell-state itself could not listen (its NATS connection was down, its event loop stalled),
   * so a silent agent gets one full heartbeat timeout from then before it is marked lost.
   */
  startClocks(): void {
    const now = this.opts.now();
    for (const n of this.model.cell.nodes) this.lastHeard.set(n.id, now);
    this.lastCheck = undefined;
  }

  /** Our own connection's disconnects and reconnects (for the life of the connection). */
  private async watchConnection(): Promise<void> {
    try {
      for await (const st of this.nc.status()) {
        if (st.type === 'disconnect' || st.type === 'staleConnection') {
          this.connectionDown = true;
        } else if (st.type === 'reconnect') {
          this.connectionDown = false;
          if (this.livenessTimer !== undefined) {
            this.opts.log.warn({ nats: st.type }, 'own NATS connection was down: every node\'s liveness clock restarts');
            this.startClocks();
          }
        }
      }
    } catch (e) {
      this.opts.log.warn({ err: e }, 'NATS status watch ended');
    }
  }

  // ---- effects ---------------------------------------------------------------------------------

  /** Carries out what applied records ask for. Never throws (publishing errors are logged). */
  onEffects = (effects: ApplyEffects, source: 'live' | 'catch-up' | 'replay'): void => {
    const now = this.opts.now();
    for (const id of effects.registered) this.lastHeard.set(id, now);
    for (const id of effects.lost) this.opts.log.warn({ node: id }, 'node lost: allocations released, tasks handed back');
    for (const a of effects.anomalies) this.opts.log.warn({ anomaly: a, source }, 'record applied in part');
    if (source === 'replay') return;
    if (effects.evicted.length > 0) {
      this.opts.metrics.preempted?.(effects.evicted);
      this.opts.log.info({ victims: effects.evicted.length, first: effects.evicted.slice(0, 5).map((a) => a.taskId) }, 'tasks preempted: stopped on their agents at the next heartbeat, handed back once stopped');
    }
    if (effects.committed.length > 0) this.publishAssignments(this.holdForVictims(effects.committed));
    for (const nodeId of effects.unblocked) {
      const waiting = this.awaitingStop.get(nodeId);
      this.awaitingStop.delete(nodeId);
      const still = waiting?.filter((a) => this.model.cell.allocationOf(a.taskId) === a) ?? [];
      if (still.length > 0) this.publishAssignments(still);
    }
    for (const id of effects.lost) this.awaitingStop.delete(id);
    for (const jobId of effects.jobsAccepted) {
      const waiting = this.deferred.get(jobId);
      if (waiting === undefined) continue;
      this.deferred.delete(jobId);
      const still = waiting.filter((a) => this.model.cell.allocationOf(a.taskId) === a);
      if (still.length > 0) this.publishAssignments(still);
    }
    for (const r of effects.requeues) void this.publishRequeue(r);
  };

  /**
   * Claims on a node whose preemption victims have not stopped yet wait (the preemptor must not
   * start next to them); the rest go out now. A cell-state taking over learns the waiting ones
   * from heartbeats (`missing`, once the node's victims stopped).
   */
  private holdForVictims(allocs: readonly Allocation[]): readonly Allocation[] {
    if (this.model.stopping.size === 0) return allocs;
    const now: Allocation[] = [];
    for (const a of allocs) {
      if (!this.model.stopping.has(a.nodeId)) {
        now.push(a);
        continue;
      }
      let list = this.awaitingStop.get(a.nodeId);
      if (list === undefined) this.awaitingStop.set(a.nodeId, (list = []));
      list.push(a);
    }
    return now;
  }

  private publishAssignments(allocs: readonly Allocation[]): void {
    const ready: Assignment[] = [];
    for (const a of allocs) {
      const asg = assignmentOf(this.model, a);
      if (asg !== undefined) {
        ready.push(asg);
        continue;
      }
      let list = this.deferred.get(a.jobId);
      if (list === undefined) {
        if (this.deferred.size >= MAX_DEFERRED_JOBS) {
          const oldest = this.deferred.keys().next().value as string;
          this.deferred.delete(oldest);
          this.opts.log.warn({ job: oldest }, 'dropping deferred assignments of a job never read from the jobs stream');
        }
        this.deferred.set(a.jobId, (list = []));
      }
      list.push(a);
    }
    for (const [agent, list] of byAgent(this.model, ready)) {
      for (let i = 0; i < list.length; i += MAX_ASSIGNMENTS_PER_MESSAGE) {
        try {
          this.nc.publish(this.opts.subjects.assign(agent), encode({ assignments: list.slice(i, i + MAX_ASSIGNMENTS_PER_MESSAGE) }));
        } catch (e) {
          this.opts.log.error({ err: e, agent }, 'cannot publish assignments (the agent gets them as missing on its next heartbeat)');
        }
      }
    }
  }

  /** Hands a job back to the schedulers (deduplicated by JetStream on job id + attempt). */
  async publishRequeue(r: Requeue): Promise<void> {
    const msg: JobSubmission = {
      job: r.spec as unknown as Record<string, unknown>, submittedAt: r.submittedAt, tasks: [...r.tasks], attempt: r.attempt,
      ...(r.notBefore !== undefined ? { notBefore: r.notBefore } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.js.publish(this.opts.subjects.jobsSubmit(r.spec.tenant), encode(msg), { msgID: `requeue:${r.jobId}:${r.attempt}` });
        this.opts.log.info({ job: r.jobId, tasks: r.tasks.length, attempt: r.attempt }, 'job handed back for rescheduling');
        return;
      } catch (e) {
        if (attempt >= 10) {
          this.opts.log.error({ err: e, job: r.jobId }, 'cannot hand the job back; it is published again at the next start');
          return;
        }
        await new Promise((res) => setTimeout(res, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  /** After a restart: hand back again every job whose handed-back tasks are still pending. */
  republishRequeues(): void {
    for (const r of pendingRequeues(this.model)) void this.publishRequeue(r);
  }

  // ---- serving ---------------------------------------------------------------------------------

  private refuse(subject: string, code: ErrorCode, message: string, path?: string): ErrorReply {
    this.opts.metrics.refused(subject, code);
    return errorReply(code, message, path);
  }

  private refusal(subject: string, r: Refusal): ErrorReply {
    if (r.code === 'forbidden') this.opts.metrics.refusedIdentity(RefusedReason.foreign_node);
    return this.refuse(subject, r.code === 'forbidden' ? ErrorCode.forbidden : ErrorCode.invalid, r.message, r.path);
  }

  /** The message's `agent` must be the agent its subject names (the identity the server checked); metrics label `served`. */
  private agentMismatch(served: string, msg: Msg, agent: string): ErrorReply | undefined {
    const d = agentMismatch(msg.subject, agent);
    if (d === undefined) return undefined;
    this.opts.metrics.refusedIdentity(d.reason);
    this.opts.log.warn({ subject: msg.subject, agent }, d.message);
    return this.refuse(served, ErrorCode.forbidden, d.message, 'agent');
  }

  private counted<T>(subject: string, out: { ok: true; value: T } | ErrorReply, ok: (v: T) => unknown): unknown {
    if (!out.ok) {
      this.opts.metrics.refused(subject, out.error.code);
      return out;
    }
    return ok(out.value);
  }

  /** The largest message the server takes (our replies must fit too), with room for headers. */
  private maxReplyBytes(): number {
    return Math.max(64 * 1024, (this.nc.info?.max_payload ?? 1024 * 1024) - 4 * 1024);
  }

  /**
   * A reply of the first `n` of `total` items that fits in one message: a reply that is too large
   * cannot be sent at all, so it is cut (sync: fewer partitions, the scheduler asks for the rest in
   * its next round; listings: a shorter page, `total` still says how many there are).
   * Only encodes to measure when the estimate says it may not fit.
   */
  private fitted<T extends object>(subject: string, total: number, estimate: number, build: (n: number) => T): T | ErrorReply {
    const limit = this.maxReplyBytes();
    if (estimate < limit / 2) return build(total);
    let n = total;
    while (n > 0) {
      const r = build(n);
      const size = encode(r).length;
      if (size <= limit) {
        if (n < total) this.opts.log.warn({ subject, items: n, asked: total, limit }, 'reply cut to fit the message size limit');
        return r;
      }
      n = Math.min(n - 1, Math.floor((n * limit) / size));
    }
    return this.refuse(subject, ErrorCode.too_large, `even one item of the reply exceeds the ${limit}-byte message limit`);
  }

  private serve<S extends z.ZodTypeAny>(subject: string, schema: S, handler: (v: z.output<S>, msg: Msg) => unknown, nc = this.nc): void {
    // undefined = no reply: a cell-state that is not (or no longer) the leader lets the leader answer.
    const guarded = (v: z.output<S>, msg: Msg) => (this.opts.isLeading() ? handler(v, msg) : undefined);
    this.subs.push(serve(nc, subject, schema, guarded, {
      log: this.opts.log, maxBytes: this.opts.maxMessageBytes,
      onRefused: (subj, code) => this.opts.metrics.refused(subj, code),
    }));
  }

  /** Subscribes to every request subject and starts the liveness check (leader only). */
  start(): void {
    if (this.subs.length > 0) return;
    const s = this.opts.subjects;
    const model = this.model;
    const space = model.space;

    this.serve(s.nodeRegisterAll, registerRequest, async (req, msg) => {
      const forged = this.agentMismatch(s.nodeRegisterAll, msg, req.agent);
      if (forged !== undefined) return forged;
      const rec = registrationRecord(model, req);
      if (isRefusal(rec)) return this.refusal(s.nodeRegisterAll, rec);
      const out = await this.writer.append(rec);
      return this.counted(s.nodeRegisterAll, out, (r) => {
        const registered = r.t === 'register' ? r.registered : 0;
        this.opts.log.info({ agent: req.agent, nodes: req.nodes.length, registered }, 'nodes registered');
        return { ok: true, registered };
      });
    });

    this.serve(s.nodeHeartbeatAll, heartbeatRequestFast, (req, msg) => {
      const forged = this.agentMismatch(s.nodeHeartbeatAll, msg, req.agent);
      if (forged !== undefined) return forged;
      const now = this.opts.now();
      const d = reconcileHeartbeat(model, req, now, this.opts.assignGraceMs, { running: this.runningInFlight, ended: this.endedInFlight, stopped: this.stoppedInFlight });
      if (isRefusal(d)) return this.refusal(s.nodeHeartbeatAll, d);
      for (const id of d.heard) {
        this.lastHeard.set(id, now);
        this.lastBeat.set(id, now);
      }
      if (d.running !== undefined) {
        const tasks = d.running.tasks.map((t) => t.taskId);
        for (const t of tasks) this.runningInFlight.add(t);
        void this.writer.append(d.running).finally(() => { for (const t of tasks) this.runningInFlight.delete(t); });
      }
      if (d.stopped !== undefined) {
        const tasks = d.stopped.tasks.map((t) => t.taskId);
        for (const t of tasks) this.stoppedInFlight.add(t);
        void this.writer.append(d.stopped).finally(() => { for (const t of tasks) this.stoppedInFlight.delete(t); });
      }
      const missing: Assignment[] = [];
      for (const a of d.missing) {
        const asg = assignmentOf(model, a);
        if (asg !== undefined) missing.push(asg);
      }
      return { ok: true, unknownNodes: d.unknownNodes, stopTasks: d.stopTasks, missing };
    });

    this.serve(s.taskEndedAll, taskEndedRequestFast, async (req, msg) => {
      const forged = this.agentMismatch(s.taskEndedAll, msg, req.agent);
      if (forged !== undefined) return forged;
      const refusal = ownershipRefusal(model, req.agent, req.tasks.map((t) => t.nodeId), 'tasks[#].nodeId');
      if (refusal !== undefined) return this.refusal(s.taskEndedAll, refusal);
      const tasks = req.tasks.map((t) => t.taskId);
      for (const t of tasks) this.endedInFlight.add(t);
      const out = await this.writer.append(taskEndedRecord(req)).finally(() => { for (const t of tasks) this.endedInFlight.delete(t); });
      return this.counted(s.taskEndedAll, out, (r) => ({ ok: true, released: r.t === 'ended' ? r.released : 0 }));
    });

    this.serve(s.sync, syncRequest, (req) => {
      if (!sameResources(space, req.resources)) {
        return this.refuse(s.sync, ErrorCode.invalid, `resources ${req.resources.join(',')} differ from the cell's ${space.names.join(',')}`, 'resources');
      }
      const P = model.cell.partitionCount;
      for (let i = 0; i < req.requests.length; i++) {
        if (req.requests[i].partition >= P) return this.refuse(s.sync, ErrorCode.invalid, `the cell has ${P} partitions (0..${P - 1})`, `requests[${i}].partition`);
      }
      const plain = req.requests.map((r) => model.cell.sync(r.partition, r.since));
      const syncs = req.tasks === true ? plain.map((x) => withRunningTasks(model, x)) : plain;
      let nodes = 0;
      for (const x of syncs) for (const n of x.nodes) nodes += 1 + (n.tasks?.length ?? 0);
      return this.fitted(s.sync, syncs.length, nodes * (60 + 24 * space.size),
        (n) => ({ ok: true, partitions: P, syncs: (n === syncs.length ? syncs : syncs.slice(0, n)).map(syncToWire), queues: this.usageNow() }));
    }, this.opts.syncNc);

    this.serve(s.commit, commitRequestFast, async (req) => {
      if (!sameResources(space, req.resources)) {
        return this.refuse(s.commit, ErrorCode.invalid, `resources ${req.resources.join(',')} differ from the cell's ${space.names.join(',')}`, 'resources');
      }
      const out = await this.writer.commit(req.txns.map((w) => txnFromWire(space, w)));
      if (out.ok) this.conflicts.record(out.value, this.opts.now());
      return this.counted(s.commit, out, (results) => ({ ok: true, results: results.map(txnResultToWire) }));
    });

    this.serve(s.jobOutcome, jobOutcomeRequest, async (req) => {
      const out = await this.writer.append({ t: 'outcome', jobId: req.jobId, scheduler: req.schedulerId, state: req.state, reason: req.reason });
      return this.counted(s.jobOutcome, out, () => {
        this.opts.log.info({ job: req.jobId, scheduler: req.schedulerId, state: req.state, reason: req.reason }, 'job outcome');
        return { ok: true };
      });
    });

    this.serve(s.queryJobs, listingRequest, (req) => {
      const page = listJobs(model, req);
      let tasks = 0;
      for (const j of page.items) tasks += j.tasks.length;
      return this.fitted(s.queryJobs, page.items.length, tasks * 80 + page.items.length * 200, (n) => ({ ...page, items: page.items.slice(0, n) }));
    });
    this.serve(s.queryNodes, listingRequest, (req) => {
      const page = listNodes(model, req);
      return this.fitted(s.queryNodes, page.items.length, page.items.length * (150 + 40 * space.size), (n) => ({ ...page, items: page.items.slice(0, n) }));
    });
    this.serve(s.queryPartitions, listingRequest, (req) => listPartitions(model, req));
    this.serve(s.queryQueues, queuesListingRequest, () => ({ ok: true, resources: [...space.names], items: listQueues(model) }));
    this.serve(s.queuesApply, queuesApplyRequest, async (req) => {
      if (this.opts.config === undefined) return this.refuse(s.queuesApply, ErrorCode.internal, 'this cell-state has no config bucket');
      const r = await applyAndStore(this.opts.config, model, req.file);
      if (!r.ok) return this.refuse(s.queuesApply, ErrorCode.invalid, `${r.path}: ${r.message}`, r.path);
      this.queueUsage = undefined;
      this.opts.log.info({ version: r.version, queues: model.queues.tree?.all().length }, 'queue file applied');
      return { ok: true, queues: model.queues.tree?.all().length ?? 0, version: r.version };
    });
    this.serve(s.queryExplain, explainRequest, (req) => explainJob(model, req.job, this.conflicts.of(req.job))
      ?? this.refuse(s.queryExplain, ErrorCode.not_found, `no job "${req.job}" in the cell`));
    this.serve(s.nodeAdmin, nodeAdminRequest, async (req) => {
      const plan = planLifecycle(model, req, this.opts.now());
      for (const record of plan.records) {
        const out = await this.writer.append(record);
        if (!out.ok) return this.counted(s.nodeAdmin, out, () => undefined);
      }
      if (plan.records.length > 0) this.opts.log.info({ op: req.op, nodes: req.nodes.length, deadlineS: req.deadlineS }, 'node lifecycle change');
      this.checkDrains();
      return lifecycleReply(model, req, plan.unknown);
    });

    this.lastCheck = this.opts.now();
    this.livenessTimer = setInterval(() => this.checkLiveness(), this.liveness.periodMs);
    this.livenessTimer.unref();
  }

  /**
   * Marks nodes not heard from in time as lost (through the log, like every change) — unless the
   * cell-state itself could not listen (see `core/liveness.ts`).
   */
  checkLiveness(): void {
    this.checkDrains();
    const now = this.opts.now();
    if (this.connectionDown) {
      this.lastCheck = now;
      return;
    }
    const d = decideLiveness(this.model, {
      lastHeard: this.lastHeard, lastBeat: this.lastBeat, inFlight: this.lostInFlight, now, previousCheck: this.lastCheck,
    }, this.liveness);
    if (d.kind === 'stalled') {
      this.opts.log.warn({ lateMs: Math.round(d.lateMs), periodMs: this.liveness.periodMs }, 'liveness check ran late (this cell-state stalled): every node\'s liveness clock restarts');
      this.startClocks();
      this.lastCheck = now;
      return;
    }
    this.lastCheck = now;
    const lost = d.lost;
    if (d.held > 0) {
      this.opts.log.warn({ marking: lost.length, held: d.held, limit: d.limit }, 'many nodes silent at once and no other heartbeats arriving: marking only the longest silent lost, the rest are checked again');
    }
    if (lost.length === 0) return;
    for (const id of lost) this.lostInFlight.add(id);
    this.opts.log.warn({ nodes: lost.length, first: lost.slice(0, 10), timeoutMs: this.opts.heartbeatTimeoutMs }, 'nodes not heard from: marking them lost');
    void this.writer.append({ t: 'lost', nodes: lost }).then((out) => {
      for (const id of lost) this.lostInFlight.delete(id);
      if (!out.ok) this.opts.log.warn({ error: out.error }, 'could not log lost nodes; retrying at the next check');
    });
  }

  private drainsInFlight = false;
  /** The committer's last refusals per job (`tessera explain`). */
  private readonly conflicts = new ConflictMemory();

  /** Draining nodes that are empty or past their deadline end `drained` (their remaining tasks handed back). */
  checkDrains(): void {
    if (this.drainsInFlight) return;
    const due = drainsDue(this.model, this.opts.now());
    if (due.length === 0) return;
    this.drainsInFlight = true;
    void this.writer.append({ t: 'lifecycle', op: 'drained', nodes: due }).then((out) => {
      this.drainsInFlight = false;
      if (!out.ok) this.opts.log.warn({ error: out.error }, 'could not log drained nodes; retrying at the next check');
      else this.opts.log.info({ nodes: due.length, first: due.slice(0, 10) }, 'nodes drained: remaining tasks handed back');
    });
  }

  // ---- the jobs stream -------------------------------------------------------------------------

  /** The queue file stored in the config bucket, put in force before serving (restarts and takeovers keep it). */
  async loadQueues(): Promise<void> {
    if (this.opts.config !== undefined) await loadStoredQueues(this.opts.config, this.model, this.opts.log);
  }

  private usageNow(): WireQueueUsage {
    const now = this.opts.now();
    const seq = this.model.lastSeq;
    // Fresh whenever a record was applied since (usage changes only then), else at most every QUEUE_USAGE_MS.
    if (this.queueUsage === undefined || this.queueUsage.seq !== seq || now - this.queueUsage.at >= QUEUE_USAGE_MS) this.queueUsage = { at: now, seq, value: queueUsageWire(this.model) };
    return this.queueUsage.value;
  }

  /**
   * Reads job submissions (durable pull consumer; a message carries one job or a batch) into the
   * job table, through the log: a message is acked once every job record of it is durable (nak'ed
   * to be read again if any append failed; jobs already recorded are skipped then). Pulled by room
   * (at most MAX_INTAKE_JOBS records in flight), so a backlog waits in the stream, not here.
   */
  async startJobIntake(): Promise<void> {
    const s = this.opts.subjects;
    const consumer = await this.js.consumers.get(s.jobsStream, s.jobsCellStateConsumer);
    const abort = new AbortController();
    this.jobIntakeAbort = abort;
    this.jobsLoop = pullIntake(consumer, {
      room: () => MAX_INTAKE_JOBS - this.intakeJobs,
      roomChanged: () => new Promise<void>((r) => this.intakeWaiters.push(r)),
      take: (m) => this.takeJobs(m),
      signal: abort.signal,
      log: this.opts.log,
    });
  }

  /** Records a message's jobs; returns how many it carried. */
  private takeJobs(m: JsMsg): number {
    const d = decodeJobsMessage(m.data, this.opts.maxMessageBytes);
    if (!d.ok) {
      this.opts.log.warn({ seq: m.seq, error: d.error }, 'unreadable job submission skipped');
      m.ack();
      return 1;
    }
    const subs = d.value;
    let outstanding = 0, failed = false;
    const done = (ok: boolean) => {
      if (!ok) failed = true;
      this.intakeJobs--;
      for (const r of this.intakeWaiters.splice(0)) r();
      if (--outstanding === 0) {
        if (failed) m.nak(1_000);
        else m.ack();
      }
    };
    const sizeHint = Math.ceil(m.data.length / subs.length);
    for (const sub of subs) {
      let record: JobRecord | undefined;
      try {
        record = this.jobRecordOf(sub, m.seq, m.subject);
      } catch (e) {
        this.opts.log.error({ err: e, seq: m.seq }, 'job intake failed on a job');
        failed = true;
        continue;
      }
      if (record === undefined) continue;
      outstanding++;
      this.intakeJobs++;
      void this.writer.append(record, sizeHint).then((out) => done(out.ok), () => done(false));
    }
    if (outstanding === 0) {
      if (failed) m.nak(1_000);
      else m.ack();
    }
    return subs.length;
  }

  /** The job record for a submission, or undefined when there is nothing to record. */
  private jobRecordOf(sub: JobSubmission, seq: number, subject: string): JobRecord | undefined {
    // Nothing of a job submitted under another tenant's name is recorded (not even as failed:
    // its id may be a real job's of that tenant).
    const forged = tenantMismatch(subject, sub.job.tenant);
    if (forged !== undefined) {
      this.opts.metrics.refusedIdentity(forged.reason);
      this.opts.log.warn({ seq, subject, job: typeof sub.job.id === 'string' ? sub.job.id : undefined }, forged.message);
      return undefined;
    }
    const rawId = sub.job.id;
    if (typeof rawId === 'string' && this.model.jobs.has(rawId)) {
      if (sub.tasks === undefined) this.opts.log.warn({ job: rawId }, 'job id already known: resubmission ignored');
      return undefined; // a hand-back of ours, or a resubmission
    }
    const v = validateJobSpec(sub.job, this.model.space);
    if (v.ok) {
      const unknown = unknownQueueReason(this.model, v.job.queue);
      if (unknown !== undefined) {
        this.opts.log.warn({ job: v.job.id, queue: v.job.queue }, 'job for an unknown queue recorded as failed');
        return { t: 'job', id: v.job.id, tenant: v.job.tenant, submittedAt: sub.submittedAt, error: `queue: ${unknown}` };
      }
      return { t: 'job', id: v.job.id, tenant: v.job.tenant, submittedAt: sub.submittedAt, spec: v.job as unknown as Record<string, unknown> };
    }
    if (typeof rawId !== 'string' || rawId.length === 0 || rawId.length > 400) {
      this.opts.log.warn({ seq, error: v.error }, 'job without a usable id refused');
      return undefined;
    }
    const tenant = typeof sub.job.tenant === 'string' && sub.job.tenant.length <= 200 ? sub.job.tenant : 'default';
    this.opts.log.warn({ job: rawId, error: v.error }, 'invalid job recorded as failed');
    return { t: 'job', id: rawId, tenant, submittedAt: sub.submittedAt, error: `${v.error.path}: ${v.error.message}` };
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /** Stops serving (step-down, shutdown); `start()` may follow again. */
  async stop(): Promise<void> {
    if (this.livenessTimer !== undefined) clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
    for (const sub of this.subs.splice(0)) sub.unsubscribe();
    this.jobIntakeAbort?.abort();
    for (const r of this.intakeWaiters.splice(0)) r();
    await this.jobsLoop?.catch(() => undefined);
    this.jobIntakeAbort = undefined;
    this.jobsLoop = undefined;
    // Deferred assignments are the leader's bookkeeping; the next leader reports them `missing`.
    this.deferred.clear();
    this.awaitingStop.clear();
  }
}
