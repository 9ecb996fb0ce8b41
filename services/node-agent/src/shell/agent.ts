/**
 * The node agent's shell: registration, heartbeats, assignments and task-end reports over NATS.
 *
 * Reports are never dropped when the cell is unreachable: registration retries with backoff,
 * task ends wait in the TaskBook's outbox until a taskEnded request is acknowledged, and a
 * heartbeat that fails is simply sent again next period (the NATS client reconnects by itself).
 *
 * Heartbeats are what keeps the agent's nodes alive in the cell (cell-state marks a node lost
 * after `--heartbeat-timeout-ms` of silence), so one lost heartbeat must never cost that much:
 * a heartbeat request waits at most one period, a tick that comes while a round is out starts the
 * next round as soon as it ends, and a NATS reconnect abandons the round out and heartbeats at
 * once (core/heartbeat-pacer.ts).
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { assignMessageFast, decodeAs, heartbeatReply, registerReply, taskEndedReply, type Assignment, type HeartbeatReply, type Subjects } from '@tessera/protocol';
import { request, type Logger } from '@tessera/runtime';
import { heartbeatBatches, MAX_BATCH, planHeartbeatReply, taskEndedRequest } from '../core/heartbeat.ts';
import { heartbeatRequestTimeoutMs, HeartbeatPacer } from '../core/heartbeat-pacer.ts';
import { chunks, type AgentNode } from '../core/nodes.ts';
import { TaskBook, type TaskResult } from '../core/task-book.ts';
import type { TaskDriver } from './drivers.ts';
import type { AgentMetrics } from './metrics.ts';

export interface NodeAgentOptions {
  readonly agentId: string;
  readonly nodes: readonly AgentNode[];
  readonly heartbeatMs: number;
  /** How often the task-end outbox is flushed (ends are batched over this window). */
  readonly reportMs?: number;
  /** Timeout of registration and task-end requests (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Timeout of one heartbeat request (default and at most `heartbeatMs`). */
  readonly heartbeatTimeoutMs?: number;
}

export interface NodeAgentDeps {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now?: () => number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

class AbandonedError extends Error {
  override readonly name = 'AbandonedError';
}

/** `p`, or an AbandonedError as soon as `signal` aborts (p's own outcome is then ignored). */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      reject(new AbandonedError('abandoned on reconnect'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/** Heartbeat requests out at once per round (an agent with more than 1,000 nodes sends several). */
export const HEARTBEAT_CONCURRENCY = 4;

export class NodeAgent {
  readonly book: TaskBook;
  private driver!: TaskDriver;
  private readonly nodesById: Map<string, AgentNode>;
  private readonly nodeIds: string[];
  private readonly registered = new Set<string>();
  private sub?: Subscription;
  private heartbeatTimer?: NodeJS.Timeout;
  private reportTimer?: NodeJS.Timeout;
  private readonly pacer = new HeartbeatPacer();
  private heartbeating = false;
  private statusIter?: AsyncIterable<{ type: string }> & { stop?: () => void };
  private flushing?: Promise<void>;
  private reportRetryAt = 0;
  /** Aborted on a NATS reconnect: a task-end report out then is abandoned and sent again at once. */
  private reconnected = new AbortController();
  private reportBackoffMs = 0;
  private readonly registering = new Set<string>();
  private stopped = false;
  private lastHeartbeatOk = 0;
  private readonly now: () => number;

  constructor(private readonly opts: NodeAgentOptions, private readonly deps: NodeAgentDeps) {
    this.nodesById = new Map(opts.nodes.map((n) => [n.id, n]));
    this.nodeIds = opts.nodes.map((n) => n.id);
    this.now = deps.now ?? Date.now;
    const isOwn = (id: string) => this.nodesById.has(id);
    this.book = new TaskBook(isOwn, { endedGraceMs: Math.max(10_000, 5 * opts.heartbeatMs) });
    deps.metrics.nodes.set(opts.nodes.length);
  }

  /** The driver calls back into the agent, so it is attached after construction. */
  attachDriver(driver: TaskDriver): void {
    this.driver = driver;
  }

  /** Driver callback: a task ended by itself. */
  readonly onTaskEnd = (taskId: string, result: TaskResult): void => {
    const end = this.book.finish(taskId, result, this.now());
    if (end === undefined) return;
    this.deps.metrics.tasksTotal.inc({ outcome: result.outcome });
    this.deps.metrics.tasksRunning.set(this.book.runningCount);
    this.deps.metrics.pendingReports.set(this.book.pendingReports);
    if (result.outcome === 'failed') this.deps.log.info({ task: taskId, node: end.nodeId, exitCode: result.exitCode, reason: result.reason }, 'task failed');
  };

  health() {
    return {
      ok: !this.stopped && !this.deps.nc.isClosed(),
      nodes: this.nodeIds.length,
      registered: this.registered.size,
      running: this.book.runningCount,
      pendingReports: this.book.pendingReports,
      lastHeartbeatOkMs: this.lastHeartbeatOk === 0 ? null : this.now() - this.lastHeartbeatOk,
    };
  }

  get registeredCount(): number {
    return this.registered.size;
  }

  async start(): Promise<void> {
    if (this.driver === undefined) throw new Error('attachDriver() before start()');
    this.sub = this.deps.nc.subscribe(this.deps.subjects.assign(this.opts.agentId), {
      callback: (err, msg) => {
        if (err) {
          this.deps.log.error({ err }, 'assign subscription error');
          return;
        }
        const decoded = decodeAs(msg.data, assignMessageFast);
        if (!decoded.ok) {
          this.deps.metrics.refused.inc({ reason: decoded.error.code });
          this.deps.log.warn({ error: decoded.error }, 'refused an assign message');
          if (msg.reply) msg.respond(new Uint8Array(0));
          return;
        }
        this.run(decoded.value.assignments, 'assign');
      },
    });
    const reportMs = this.opts.reportMs ?? 100;
    this.reportTimer = setInterval(() => void this.flushReports(), reportMs);
    this.watchReconnects();
    // Register first (retrying until the cell answers), then heartbeat forever.
    void this.registerWithRetry(this.nodeIds).then(() => {
      if (this.stopped) return;
      this.heartbeating = true;
      this.startRound(this.pacer.tick());
      this.heartbeatTimer = setInterval(() => this.startRound(this.pacer.tick()), this.opts.heartbeatMs);
    });
  }

  /**
   * On a NATS reconnect, requests out on the old connection are most likely lost: heartbeat at
   * once (abandoning the round out) and retry pending task-end reports without their backoff.
   */
  private watchReconnects(): void {
    const iter = this.deps.nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.statusIter = iter;
    void (async () => {
      for await (const s of iter) {
        if (s.type !== 'reconnect' || this.stopped) continue;
        const old = this.reconnected;
        this.reconnected = new AbortController();
        old.abort();
        this.reportRetryAt = 0;
        void this.flushReports();
        if (this.heartbeating) {
          this.deps.log.info({ abandoned: this.pacer.out !== 0 }, 'nats reconnected; heartbeating at once');
          this.startRound(this.pacer.reconnected());
        }
      }
    })().catch(() => undefined);
  }

  private startRound(id: number | undefined): void {
    if (id === undefined || this.stopped) return;
    void this.heartbeat(id)
      .catch((e: unknown) => this.deps.log.error({ err: e }, 'heartbeat round failed'))
      .finally(() => this.startRound(this.pacer.ended(id)));
  }

  /**
   * Starts the admissible assignments; refuses the rest (never throws). Refusals are logged once
   * per message, with counts by reason and a few task ids, not once per task.
   */
  run(assignments: readonly Assignment[], source: 'assign' | 'missing'): void {
    const now = this.now();
    const refused = new Map<string, { count: number; examples: string[] }>();
    for (const a of assignments) {
      const verdict = this.book.admit(a, now);
      if (verdict.verdict === 'refuse') {
        // A missing task we already run or just finished is the normal race with the heartbeat.
        if (source === 'missing' && verdict.reason !== 'not_my_node') continue;
        this.deps.metrics.refused.inc({ reason: verdict.reason });
        const r = refused.get(verdict.reason) ?? { count: 0, examples: [] };
        r.count++;
        if (r.examples.length < 3) r.examples.push(`${a.taskId}@${a.nodeId}`);
        refused.set(verdict.reason, r);
        continue;
      }
      this.deps.metrics.tasksStarted.inc();
      try {
        this.driver.start(a);
      } catch (e) {
        this.onTaskEnd(a.taskId, { outcome: 'failed', reason: `driver failed to start the task: ${(e as Error).message}` });
      }
    }
    for (const [reason, r] of refused) {
      this.deps.log.warn({ reason, count: r.count, examples: r.examples, source }, 'refused an assignment');
    }
    this.deps.metrics.tasksRunning.set(this.book.runningCount);
  }

  private async registerWithRetry(ids: readonly string[]): Promise<void> {
    const pending = ids.filter((id) => !this.registering.has(id));
    for (const id of pending) this.registering.add(id);
    try {
      await this.registerLoop(pending, 250);
    } finally {
      for (const id of pending) this.registering.delete(id);
    }
  }

  private async registerLoop(ids: string[], initialBackoffMs: number): Promise<void> {
    let backoff = initialBackoffMs;
    let pending = ids;
    while (pending.length > 0 && !this.stopped) {
      const failed: string[] = [];
      for (const batch of chunks(pending, MAX_BATCH)) {
        if (this.stopped) return;
        try {
          const reply = await request(this.deps.nc, this.deps.subjects.nodeRegister(this.opts.agentId), {
            agent: this.opts.agentId,
            nodes: batch.map((id) => this.nodesById.get(id)!),
          }, registerReply, { timeoutMs: this.opts.requestTimeoutMs ?? 10_000 });
          for (const id of batch) this.registered.add(id);
          this.deps.log.debug({ nodes: batch.length, registered: reply.registered }, 'registered nodes');
        } catch (e) {
          this.deps.metrics.requestErrors.inc({ kind: 'register' });
          failed.push(...batch);
          this.deps.log.warn({ err: (e as Error).message, nodes: batch.length }, 'registration failed; will retry');
        }
      }
      this.deps.metrics.nodesRegistered.set(this.registered.size);
      pending = failed;
      if (pending.length > 0) {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      } else {
        this.deps.log.info({ nodes: this.registered.size }, 'nodes registered');
      }
    }
  }

  /**
   * One heartbeat round: every node, in batches, up to {@link HEARTBEAT_CONCURRENCY} requests out
   * at once, each waiting at most the heartbeat request timeout. A batch that fails or times out
   * does not hold back the others (a slow first batch must not keep the later nodes silent); the
   * round stops sending once the pacer abandoned it (NATS reconnected) and ignores late answers.
   */
  private async heartbeat(round: number): Promise<void> {
    const started = performance.now();
    const timeoutMs = heartbeatRequestTimeoutMs(this.opts.heartbeatMs, this.opts.heartbeatTimeoutMs);
    const batches = heartbeatBatches(this.opts.agentId, this.nodeIds, this.book);
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < batches.length) {
        if (this.stopped || !this.pacer.isCurrent(round)) return;
        const req = batches[next++];
        let reply;
        try {
          reply = await request(this.deps.nc, this.deps.subjects.nodeHeartbeat(this.opts.agentId), req, heartbeatReply, { timeoutMs });
        } catch (e) {
          if (!this.pacer.isCurrent(round)) return;
          if (failed++ === 0) this.deps.log.warn({ err: (e as Error).message, timeoutMs, nodes: req.nodes.length }, 'heartbeat failed; abandoned, the next one goes out on schedule');
          this.deps.metrics.requestErrors.inc({ kind: 'heartbeat' });
          continue;
        }
        // A round abandoned meanwhile (NATS reconnected) ignores its late answers.
        if (!this.pacer.isCurrent(round)) return;
        this.applyHeartbeatReply(reply);
      }
    };
    await Promise.all(Array.from({ length: Math.min(HEARTBEAT_CONCURRENCY, batches.length) }, worker));
    if (!this.pacer.isCurrent(round)) return;
    if (failed === 0) this.lastHeartbeatOk = this.now();
    this.deps.metrics.heartbeatSeconds.observe((performance.now() - started) / 1000);
    this.deps.metrics.tasksRunning.set(this.book.runningCount);
    this.book.expire(this.now());
  }

  private applyHeartbeatReply(reply: HeartbeatReply): void {
    const plan = planHeartbeatReply(reply, (id) => this.nodesById.has(id), this.book);
    for (const taskId of plan.stop) {
      if (this.book.stop(taskId) !== undefined) {
        this.driver.stop(taskId);
        this.deps.metrics.tasksTotal.inc({ outcome: 'stopped' });
        this.deps.log.info({ task: taskId }, 'stopped a task the cell holds no allocation for');
      }
    }
    if (plan.run.length > 0) this.run(plan.run, 'missing');
    if (plan.reRegister.length > 0) {
      for (const id of plan.reRegister) this.registered.delete(id);
      this.deps.log.info({ nodes: plan.reRegister.length }, 'the cell does not know some nodes; registering them again');
      void this.registerWithRetry(plan.reRegister);
    }
  }

  /** Sends queued task ends in batches until the outbox is empty or a request fails (then backs off). */
  flushReports(): Promise<void> {
    if (this.flushing !== undefined) return this.flushing;
    if (this.book.pendingReports === 0 || this.now() < this.reportRetryAt) return Promise.resolve();
    this.flushing = (async () => {
      while (this.book.pendingReports > 0) {
        const batch = this.book.nextReports(MAX_BATCH);
        try {
          const sent = request(this.deps.nc, this.deps.subjects.taskEnded(this.opts.agentId), taskEndedRequest(this.opts.agentId, batch), taskEndedReply, { timeoutMs: this.opts.requestTimeoutMs ?? 10_000 });
          await unlessAborted(sent, this.reconnected.signal);
        } catch (e) {
          this.deps.metrics.requestErrors.inc({ kind: 'task_ended' });
          if (e instanceof AbandonedError) {
            // Sent before a reconnect: most likely lost with the old connection. The ends stay
            // queued (a duplicate report of an end is harmless) and go out again at once.
            this.reportRetryAt = 0;
            return;
          }
          this.reportBackoffMs = Math.min(Math.max(this.reportBackoffMs * 2, 250), 5000);
          this.reportRetryAt = this.now() + this.reportBackoffMs;
          this.deps.log.warn({ err: (e as Error).message, reports: this.book.pendingReports, retryInMs: this.reportBackoffMs }, 'task-end report failed; kept for retry');
          return;
        }
        this.reportBackoffMs = 0;
        this.book.acknowledge(batch, this.now());
        this.deps.metrics.pendingReports.set(this.book.pendingReports);
      }
    })().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  /** Stops heartbeats, tries to deliver the pending reports (bounded), stops every task. */
  async stop(flushTimeoutMs = 3000): Promise<void> {
    this.stopped = true;
    this.statusIter?.stop?.();
    clearInterval(this.heartbeatTimer);
    clearInterval(this.reportTimer);
    this.sub?.unsubscribe();
    const deadline = Date.now() + flushTimeoutMs;
    while (this.book.pendingReports > 0 && Date.now() < deadline && !this.deps.nc.isClosed()) {
      this.reportRetryAt = 0;
      await this.flushReports();
      if (this.book.pendingReports > 0) await sleep(100);
    }
    await this.driver.stopAll();
  }
}
