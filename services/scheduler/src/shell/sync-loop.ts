/**
 * The replica's view and its sync loop. The pure replica (libs/replica) decides which partitions
 * each round fetches and how often; this shell sends the `sync` requests, applies the replies and
 * runs the timer. The partition count P is learnt from the cell's first reply; the view (and the
 * replica around it) is rebuilt if the cell ever answers with another P (it was rebuilt).
 *
 * A sync request that gets no answer is abandoned after the attempt timeout (2 s by default,
 * growing while failures go on), or at once when NATS reconnects, and the loop goes on with the
 * next round: a view must not stay stale for a whole request timeout after a NATS restart or a
 * cell-state takeover, or every proposal made on it meanwhile is refused. Besides the plan, jobs
 * whose claims were refused ask for their stale partitions with {@link SyncLoop.refresh}.
 */
import { setMaxListeners } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import { SchedulerView, type ResourceSpace, type ViewNode } from '@tessera/core';
import type { PipelineSpec, PlacementMode } from '@tessera/policy';
import type { QueueUsageView } from './queue-usage.ts';
import { syncFromWire, syncReplyFast, type Subjects, type SyncReply } from '@tessera/protocol';
import { partitionsForRound, SchedulerReplica, type SyncRequest, type VisitOrder } from '@tessera/replica';
import type { Logger } from '@tessera/runtime';
import { chunkSyncRequests, mergeSyncRequests, roundsPerRequest } from '../core/sync-batching.ts';
import { attemptTimeoutMs, type AttemptFailure, type ResendPolicy } from '../core/resend.ts';
import { attemptFailure, requestSized, sleep } from './bus.ts';
import type { SchedulerMetrics } from './metrics.ts';
import type { ReconnectSignal } from './reconnects.ts';

/** Requests are at least this far apart; faster rounds are fetched several per request. */
export const MIN_SYNC_TICK_MS = 10;
/** Nodes per sync request at most (about 1-2 MB of snapshots). */
export const MAX_NODES_PER_SYNC = 5_000;
/** Running tasks per node assumed until a snapshot with tasks says (chunking, see SyncLoop.chunks). */
const GUESSED_TASKS_PER_NODE = 16;
/** How long syncs keep carrying running tasks after a task that could preempt last found no room. */
export const TASKS_WANTED_MS = 30_000;

export interface ReplicaSettings {
  readonly schedulerId: string;
  readonly schedulerIndex: number;
  readonly schedulers: number;
  readonly mode: PlacementMode;
  readonly scorer: string;
  /** The placement pipeline (`--pipeline`); undefined: the `--scorer` shorthand. */
  readonly pipeline?: PipelineSpec;
  readonly sampleSize: number;
  readonly syncIntervalMs: number;
  readonly maxConflictRetries: number;
  readonly conflictWindowMs: number;
  readonly maxWaitMs: number;
  readonly adaptiveThresholdMs: number;
  readonly maxClaimsPerTxn: number;
  readonly seed: string;
  readonly visitOrder?: VisitOrder;
  /** Preemption is on: tasks that could preempt and find no room ask syncs for running tasks (SyncLoop.wantTasks). */
  readonly syncTasks?: boolean;
}

export interface SyncLoopDeps {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly space: ResourceSpace;
  readonly log: Logger;
  readonly metrics: SchedulerMetrics;
  readonly settings: ReplicaSettings;
  /** Per-attempt timeouts of sync requests (see core/resend.ts). */
  readonly resend: ResendPolicy;
  /** Aborts on a NATS reconnect: a sync request out at that moment is abandoned and the loop syncs again at once. */
  readonly reconnects?: ReconnectSignal;
  /** Wall clock (ms); the same clock stamps job submissions, so staleness and delays compare. */
  readonly now?: () => number;
  /** Takes the committer's queue usage every sync reply carries (DRF ordering, quota waits). */
  readonly queueUsage?: QueueUsageView;
}

export class SyncLoop {
  private current: SchedulerReplica | undefined;
  private mode: PlacementMode;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private waiters: ((r: SchedulerReplica) => void)[] = [];
  private loopDone: Promise<void> | undefined;
  private nodesPerPartition = 0;
  /** Running tasks per partition of the last snapshots that carried them (0: none seen yet). */
  private tasksPerPartition = 0;
  private lastErrorLog = 0;
  private failures = 0;
  private lastFailure: AttemptFailure = 'refused';
  /** Out-of-plan refreshes asked for and not sent yet: partition → snapshot wanted; and their waiters. */
  private refreshWanted = new Map<number, boolean>();
  private refreshWaiters: (() => void)[] = [];
  private refreshing = false;
  /** Until when syncs ask for running tasks (see wantTasks). */
  private tasksWantedUntil = Number.NEGATIVE_INFINITY;
  /** Whether the view's nodes hold task lists kept current by the syncs. */
  private tasksHeld = false;
  /** The first sync round not fetched yet (undefined before the first round). */
  private nextRound: number | undefined;
  /** Listeners told when the replica is (re)built, e.g. to publish the mode gauge. */
  onReplica: ((r: SchedulerReplica) => void) | undefined;
  /** Called after a sync reply with the nodes it gave room (see SchedulerView.takeRoomFreed). */
  onRoomFreed: ((nodes: readonly ViewNode[]) => void) | undefined;

  constructor(private readonly deps: SyncLoopDeps) {
    this.mode = deps.settings.mode;
    this.now = deps.now ?? Date.now;
    setMaxListeners(0, this.abort.signal);
  }

  /** The replica, once bootstrapped (undefined before). */
  get replica(): SchedulerReplica | undefined {
    return this.current;
  }

  get isReady(): boolean {
    return this.current !== undefined;
  }

  /** The replica, waiting for the view to be (re)bootstrapped when needed. */
  replicaReady(): Promise<SchedulerReplica> {
    if (this.current !== undefined) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Configured mode; applied to the replica now or when it is built. */
  setMode(mode: PlacementMode): void {
    this.mode = mode;
    this.current?.setMode(mode);
  }

  get configuredMode(): PlacementMode {
    return this.mode;
  }

  /** Bootstraps the view (retrying until the cell answers), then keeps syncing until stop(). */
  start(): void {
    this.loopDone = this.run().catch((e) => {
      this.deps.log.fatal({ err: e }, 'sync loop failed');
      throw e;
    });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loopDone?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (this.current === undefined) {
        const ok = await this.bootstrap().catch((e) => this.failed(e, 'bootstrap sync'));
        if (ok !== true && this.lastFailure === 'refused') await sleep(Math.min(2_000, 100 * 2 ** Math.min(this.failures, 5)), signal);
        continue;
      }
      const replica = this.current;
      const interval = replica.syncRoundIntervalMs();
      // Rounds are numbered by the wall clock, not by a local counter: replicas started at
      // different times then still hold different partitions fresh at the same moment, which is
      // what ParSync's staggering (i·P/N offsets) is for. Clocks need only roughly agree.
      const { first, count } = roundsToFetch(this.nextRound, Math.floor(this.now() / interval), roundsPerRequest(interval, MIN_SYNC_TICK_MS), replica.config.partitions);
      const rounds: SyncRequest[][] = [];
      for (let i = 0; i < count; i++) rounds.push(roundRequests(replica, first + i));
      this.nextRound = first + count;
      const k = count;
      try {
        for (const chunk of this.chunks(mergeSyncRequests(rounds))) {
          if (!(await this.fetch(replica, chunk))) break; // the view was rebuilt
        }
        this.failures = 0;
      } catch (e) {
        this.failed(e, 'sync');
      }
      const wait = (first + k) * interval - this.now();
      // After a timeout or a reconnect the next round goes out on time (the wait already
      // happened, or the connection is fresh); quick refusals (no responders, unavailable) back off.
      const backoff = this.failures > 0 && this.lastFailure === 'refused';
      await sleep(backoff ? Math.max(wait, Math.min(1_000, 50 * 2 ** Math.min(this.failures, 5))) : wait, signal);
    }
  }

  private failed(e: unknown, what: string): false {
    this.failures++;
    this.lastFailure = attemptFailure(e);
    this.deps.metrics.syncFailures.inc({ cause: this.lastFailure });
    const t = this.now();
    if (t - this.lastErrorLog > 5_000) {
      this.lastErrorLog = t;
      this.deps.log.warn({ err: e, failures: this.failures }, `${what} failed; retrying`);
    }
    return false;
  }

  /** Partition 0 first (it always exists) to learn P, then every other partition in chunks. */
  private async bootstrap(): Promise<boolean> {
    const t0 = performance.now();
    const first = await this.request([{ partition: 0, since: -1 }]);
    const replica = this.build(first.value.partitions);
    this.apply(replica, first.value, first.bytes, t0);
    const rest = replica.bootstrapRequests().filter((r) => r.partition !== 0);
    for (const chunk of this.chunks(rest)) {
      if (!(await this.fetch(replica, chunk))) return false;
    }
    this.current = replica;
    this.failures = 0;
    this.deps.log.info({ partitions: replica.config.partitions, nodes: replica.view.nodeCount, mode: this.mode }, 'view bootstrapped');
    this.onReplica?.(replica);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(replica);
    return true;
  }

  private build(partitions: number): SchedulerReplica {
    const s = this.deps.settings;
    const view = new SchedulerView(this.deps.space, partitions);
    view.trackRoom();
    return new SchedulerReplica(
      {
        schedulerId: s.schedulerId,
        schedulerIndex: s.schedulerIndex,
        schedulers: s.schedulers,
        partitions,
        mode: this.mode,
        scorer: s.scorer,
        ...(s.pipeline === undefined ? {} : { pipeline: s.pipeline }),
        sampleSize: s.sampleSize,
        syncIntervalMs: s.syncIntervalMs,
        retry: { maxConflictRetries: s.maxConflictRetries, conflictWindowMs: s.conflictWindowMs, maxWaitMs: s.maxWaitMs },
        adaptive: { thresholdMs: s.adaptiveThresholdMs },
        maxClaimsPerTxn: s.maxClaimsPerTxn,
        seed: s.seed,
        ...(s.visitOrder === undefined ? {} : { visitOrder: s.visitOrder }),
      },
      view,
    );
  }

  /**
   * Syncs carry each node's running tasks for the next TASKS_WANTED_MS: a task that could preempt
   * found no room (the preemption post-filter reads them; the job runner calls this only with
   * preemption on), or a job has rules about other jobs' tasks (affinity, anti-affinity). If they
   * were not carried until now, every partition is fetched again at once as a snapshot with its
   * tasks; the promise resolves when that reply is applied (at once if they were carried).
   * Shipping tasks only while someone reads them keeps them off the syncs of a cell with room:
   * under a stream of small jobs every node changes on every commit, and its whole task list
   * went out with each sync to every replica (most of a replica's decoding with 4 replicas).
   */
  wantTasks(): Promise<void> {
    const now = this.now();
    const had = now < this.tasksWantedUntil;
    this.tasksWantedUntil = now + TASKS_WANTED_MS;
    const replica = this.current;
    if (had || replica === undefined) return Promise.resolve();
    const all: SyncRequest[] = [];
    for (let p = 0; p < replica.config.partitions; p++) all.push({ partition: p, since: -1 });
    this.deps.log.info({ partitions: all.length, requests: this.chunks(all).length, forMs: TASKS_WANTED_MS }, 'syncs carry running tasks (a task that may preempt found no room)');
    return this.refresh(all);
  }

  /** Preemption is on (syncTasks): the post-filter may run, so the syncs should carry tasks. */
  get preempts(): boolean {
    return this.deps.settings.syncTasks === true;
  }

  /** Whether this request asks for tasks; a view whose tasks stopped being synced forgets them. */
  private withTasks(): boolean {
    const want = this.now() < this.tasksWantedUntil;
    if (!want && this.tasksHeld) {
      this.current?.view.dropTasks();
      this.tasksHeld = false;
    }
    if (want) this.tasksHeld = true;
    return want;
  }

  private request(requests: readonly SyncRequest[]) {
    const timeout = attemptTimeoutMs(this.failures + 1, this.deps.resend);
    const body = this.withTasks() ? { resources: this.deps.space.names, requests, tasks: true } : { resources: this.deps.space.names, requests };
    return requestSized(this.deps.nc, this.deps.subjects.sync, body, syncReplyFast, timeout, this.deps.reconnects?.signal);
  }

  /**
   * Fetches these partitions now, outside the sync plan: a job whose claims the committer refused
   * wants the partitions it was wrong about fresh before it proposes again. Requests made in the
   * same turn (or while a refresh is out) share one sync request. `since` −1 asks for a snapshot;
   * otherwise the delta since what the view holds when the request leaves. Resolves once the
   * reply is applied, or the attempt failed (the job then goes on with what it has); never rejects.
   */
  refresh(requests: readonly SyncRequest[]): Promise<void> {
    if (requests.length === 0 || this.current === undefined || this.abort.signal.aborted) return Promise.resolve();
    for (const r of requests) this.refreshWanted.set(r.partition, r.since < 0 || this.refreshWanted.get(r.partition) === true);
    const done = new Promise<void>((resolve) => this.refreshWaiters.push(resolve));
    if (!this.refreshing) {
      this.refreshing = true;
      setImmediate(() => void this.flushRefresh());
    }
    return done;
  }

  private async flushRefresh(): Promise<void> {
    while (this.refreshWanted.size > 0) {
      const wanted = this.refreshWanted;
      const waiters = this.refreshWaiters;
      this.refreshWanted = new Map();
      this.refreshWaiters = [];
      const replica = this.current;
      try {
        if (replica !== undefined && !this.abort.signal.aborted) {
          const reqs: SyncRequest[] = [];
          for (const [partition, snapshot] of wanted) {
            if (partition < replica.config.partitions) reqs.push({ partition, since: snapshot ? -1 : replica.view.partitions[partition].version });
          }
          this.deps.metrics.viewRefreshes.inc(reqs.length);
          for (const chunk of this.chunks(reqs)) {
            if (!(await this.fetch(replica, chunk))) break;
          }
        }
      } catch (e) {
        const cause = attemptFailure(e);
        this.deps.metrics.syncFailures.inc({ cause });
        this.deps.log.debug({ err: e, partitions: wanted.size }, 'view refresh failed; the jobs retry on the view they have');
      } finally {
        for (const w of waiters) w();
      }
    }
    this.refreshing = false;
  }

  /**
   * Requests in chunks of about MAX_NODES_PER_SYNC items: nodes, and their running tasks while
   * the syncs carry them (a cell full of small tasks has tens of them per node: 32 partitions of
   * 1,000 nodes with their tasks were an 8 MB reply, cut by the cell-state and blocking its loop).
   */
  private chunks(requests: readonly SyncRequest[]): SyncRequest[][] {
    const wanted = this.now() < this.tasksWantedUntil;
    // Before any snapshot with tasks came: a guess, corrected by the first reply.
    // The view's own count too: nodes registered after the bootstrap came in deltas, never in a
    // snapshot (a replica started before its cell's nodes estimated 0 and asked for everything at once).
    const r = this.current;
    const nodes = Math.max(this.nodesPerPartition, r === undefined ? 0 : r.view.nodeCount / r.config.partitions);
    const tasks = !wanted ? 0 : this.tasksPerPartition > 0 ? this.tasksPerPartition : GUESSED_TASKS_PER_NODE * nodes;
    return chunkSyncRequests(requests, nodes + tasks, MAX_NODES_PER_SYNC);
  }

  /**
   * One sync request, and again for the partitions a cut reply left out (the cell-state cuts a
   * reply to the message size limit): a snapshot asked for and not received would otherwise
   * never come (the next rounds ask for deltas, which carry only the nodes that changed, so a
   * view that just started wanting tasks would never see those of unchanged nodes). False when
   * the cell's partition count changed (the view is rebuilt).
   */
  private async fetch(replica: SchedulerReplica, requests: readonly SyncRequest[]): Promise<boolean> {
    let asked = requests;
    while (asked.length > 0) {
      const t0 = performance.now();
      const reply = await this.request(asked);
      if (reply.value.partitions !== replica.config.partitions) {
        this.deps.log.warn({ had: replica.config.partitions, now: reply.value.partitions }, 'the cell has another partition count; rebuilding the view');
        this.current = undefined;
        return false;
      }
      this.apply(replica, reply.value, reply.bytes, t0);
      if (reply.value.syncs.length === 0 || reply.value.syncs.length >= asked.length) return true;
      const got = new Set<number>();
      for (const w of reply.value.syncs) got.add(w.partition);
      asked = asked.filter((r) => !got.has(r.partition));
      this.deps.log.debug({ got: got.size, missing: asked.length }, 'sync reply cut by the cell-state; asking again for the rest');
    }
    return true;
  }

  private apply(replica: SchedulerReplica, reply: SyncReply, bytes: number, t0: number): void {
    const now = this.now();
    this.deps.queueUsage?.update(reply.queues);
    let snapshotNodes = 0;
    let snapshotTasks = 0;
    let snapshots = 0;
    for (const w of reply.syncs) {
      if (w.partition >= replica.config.partitions) continue;
      const s = syncFromWire(this.deps.space, w);
      if (s === undefined) {
        this.deps.log.error({ partition: w.partition }, 'sync reply with resource vectors longer than this cell\'s resource space (check --resources)');
        continue;
      }
      replica.applySync(s, now);
      if (s.kind === 'snapshot') {
        snapshots++;
        snapshotNodes += s.nodes.length;
        for (const n of s.nodes) snapshotTasks += n.tasks?.length ?? 0;
      }
    }
    if (snapshots > 0) {
      this.nodesPerPartition = decayingMax(this.nodesPerPartition, snapshotNodes / snapshots);
      if (snapshotTasks > 0) this.tasksPerPartition = decayingMax(this.tasksPerPartition, snapshotTasks / snapshots);
    }
    const freed = replica.view.takeRoomFreed();
    if (freed.length > 0) this.onRoomFreed?.(freed);
    this.deps.metrics.syncSeconds.observe((performance.now() - t0) / 1000);
    this.deps.metrics.syncBytes.inc(bytes);
    this.deps.metrics.viewNodes.set(replica.view.nodeCount);
  }
}

/** A per-partition size estimate: the new figure, or the last one decayed by 10 % if larger. */
function decayingMax(last: number, est: number): number {
  return last === 0 ? est : Math.max(est, last * 0.9);
}

/**
 * Which rounds the next request fetches: from the first one not fetched yet (`next`) up to
 * `perRequest` rounds past the current one. A loop that fell behind (slow replies, a busy event
 * loop) fetches the rounds it missed too, up to one whole cycle of `partitions` rounds, instead of
 * skipping them: skipping left partitions unsynced for seconds under load, and a stale view is
 * what conflicts are made of. Never goes back more than a cycle, nor forward of the clock.
 */
export function roundsToFetch(next: number | undefined, current: number, perRequest: number, partitions: number): { first: number; count: number } {
  const first = next === undefined ? current : Math.min(Math.max(next, current - Math.max(1, partitions) + 1), current + perRequest);
  const count = Math.max(1, current + perRequest - first);
  return { first, count };
}

/** The replica's partitions of sync round `round`, each with the version the view holds. */
function roundRequests(replica: SchedulerReplica, round: number): SyncRequest[] {
  const parts = partitionsForRound(replica.config, replica.mode, round);
  const out = new Array<SyncRequest>(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = { partition: parts[i], since: replica.view.partitions[parts[i]].version };
  return out;
}
