/**
 * Placement: filters → scorers → the mode picks a node, on a scheduler's (possibly stale) view;
 * post-filters when a task fits nowhere for a retryable reason. Pure: time and randomness come
 * in through the options; nothing here reads a clock or does I/O.
 *
 * One placement call = one PlacementContext (the job, the view, each plugin's prepared state and
 * the decision scratch): `beginPlacement` → `placeInContext` per task → `bookPlacement` for each
 * task that found a node. `placeTask` and `placeJob` are that sequence for one task / a job.
 *
 * Hot-path notes: a decision allocates only its result. Nodes are visited in place (no candidate
 * arrays), scratch lives in the context, and the partition order / flat node list are cached per
 * view (see view-index.ts).
 */
import { ResourceSpace, type Claim, type Eviction, type PartitionView, type QuotaUsage, type ResourceVector, type SchedulerView, type TaskRequest, type ViewNode } from '@tessera/core';
import { PlacementContext, type PlacementJob } from './context.ts';
import { devicesFor } from './gpu/devices-for.ts';
import type { EffectiveMode } from './modes.ts';
import { defaultPipeline, type Pipeline } from './pipeline.ts';
import type { ScoredNode } from './plugin.ts';
import { defaultRegistry } from './registry.ts';
import type { Rng } from './rng.ts';
import { coprimeStride } from './sampling.ts';
import { flatNodes, viewIndex } from './view-index.ts';

export interface PlaceOptions {
  /** `adaptive` is resolved (by AdaptiveMode) before calling. */
  mode: EffectiveMode;
  /** Shorthand for the default pipeline (default filters + this scorer + soft preferences). */
  scorer: string;
  /** Feasible candidates scored per task; 0 = score every feasible node. */
  sampleSize: number;
  /** ms, same clock as PartitionView.syncedAt. */
  now: number;
  rng: Rng;
  /** A compiled pipeline (other filters, scorers, weights, post-filters). When given, `scorer` is ignored. */
  pipeline?: Pipeline;
  /** The job the tasks belong to, for rules that need it (queue, priority, …). */
  job?: PlacementJob;
  /**
   * Latency-first only: this replica's home partitions (homePartitions in @tessera/core), indexed
   * by partition. They are tried first, freshest first, then the rest: replicas whose homes are
   * disjoint claim disjoint nodes until a home is full, instead of all racing for the freshest.
   */
  homePartitions?: readonly boolean[];
  /** Queue usage and guarantees for reclaim by the preemption post-filter (quotaUsageOf in @tessera/core). */
  quota?: QuotaUsage;
}

/**
 * The outcome for one task. On failure, `reasons` counts the nodes refused per reason; every node
 * of the view was visited, so the counts sum to the view's node count (an empty record means the
 * view holds no nodes yet). `retryable` is false when no node could ever take the task (larger
 * than every node, constraints match none); then retrying on fresher state cannot help.
 * A placement a post-filter made possible carries the `evictions` it needs.
 */
export type Placement =
  /** `noRoom`: set when a post-filter placed it (e.g. by evicting): what the walk found before. */
  | { ok: true; node: ViewNode; score: number; stalenessMs: number; evictions?: readonly Eviction[]; noRoom?: PlacementFailure }
  | { ok: false; retryable: boolean; reasons: Record<string, number> };

export type PlacementFailure = Placement & { ok: false };
export type PlacementSuccess = Placement & { ok: true };

/**
 * Visits `nodes` from a seeded start with a seeded coprime stride, filtering and scoring, until
 * `limit` feasible candidates were scored (limit 0: all). Leaves the winner in the context.
 */
function visit(nodes: readonly ViewNode[], task: TaskRequest, ctx: PlacementContext, limit: number, rng: Rng): void {
  const n = nodes.length;
  if (n === 0) return;
  const pipeline = ctx.pipeline;
  let idx = n === 1 ? 0 : rng.int(n);
  const stride = coprimeStride(n, rng);
  for (let k = 0; k < n; k++) {
    const node = nodes[idx];
    idx += stride;
    if (idx >= n) idx -= n;
    const reason = pipeline.rejection(node, task, ctx);
    if (reason !== undefined) {
      ctx.reject(reason);
      continue;
    }
    const s = ctx.score(node, task);
    if (s > ctx.bestScore) {
      ctx.bestScore = s;
      ctx.bestNode = node;
    }
    if (++ctx.found === limit) return;
  }
}

function checkOptions(opts: PlaceOptions): void {
  const s = opts.sampleSize;
  if (!(s >= 0) || !Number.isInteger(s)) throw new RangeError(`sampleSize must be an integer ≥ 0, got ${s}`);
  if (opts.mode !== 'latency-first' && opts.mode !== 'quality-first' && opts.mode !== 'state-sync') {
    throw new RangeError(`placement mode must be latency-first, quality-first or state-sync, got ${String(opts.mode)} (resolve adaptive with AdaptiveMode first)`);
  }
}

/** Starts a placement call for `tasks` (runs every plugin's `prepare`). */
export function beginPlacement(view: SchedulerView, tasks: readonly TaskRequest[], opts: PlaceOptions): PlacementContext {
  checkOptions(opts);
  const pipeline = opts.pipeline ?? defaultPipeline(opts.scorer, view.space);
  const ctx = new PlacementContext(view, pipeline, tasks, opts.job, opts.quota);
  ctx.now = opts.now;
  ctx.rng = opts.rng;
  ctx.homePartitions = opts.homePartitions;
  return ctx;
}

/**
 * Places one task of the call without booking it.
 * - `latency-first`: partitions from the most recently synced (the replica's home partitions
 *   first, when given); the first partition holding a feasible node wins, and its best sampled
 *   node is chosen.
 * - `quality-first` / `state-sync`: the best sampled feasible node anywhere, however stale.
 * When no node fits and waiting could help, the post-filters run in order (first result wins).
 */
export function placeInContext(ctx: PlacementContext, task: TaskRequest, opts: PlaceOptions): Placement {
  const view = ctx.view;
  const ix = viewIndex(view);
  ctx.beginTask(task);

  let part: PartitionView | undefined;
  if (opts.mode === 'latency-first') {
    const home = opts.homePartitions;
    part = home === undefined
      ? firstWithRoom(view, ix.order, task, ctx, opts, undefined)
      : firstWithRoom(view, ix.order, task, ctx, opts, home, true) ?? firstWithRoom(view, ix.order, task, ctx, opts, home, false);
  } else {
    visit(flatNodes(view, ix), task, ctx, opts.sampleSize, opts.rng);
  }

  const node = ctx.bestNode;
  const score = ctx.bestScore;
  ctx.bestNode = undefined; // do not keep view nodes alive from the context
  if (node === undefined) {
    // Nothing visited (an empty view) is retryable: nodes may still register or sync in.
    const failure: PlacementFailure = { ok: false, retryable: ix.total === 0 || ctx.anyResolvable(), reasons: ctx.reasons() };
    return failure.retryable ? postFilter(ctx, task, failure, opts) : failure;
  }
  return { ok: true, node, score, stalenessMs: opts.now - syncedAtOf(view, part ?? view.partitions[node.partition]) };
}

/**
 * Latency-first's walk: partitions in freshness order (only those whose `home` flag equals
 * `inHome`, when `home` is given) until one holds a feasible node; returns that partition.
 */
function firstWithRoom(view: SchedulerView, order: ArrayLike<number>, task: TaskRequest, ctx: PlacementContext, opts: PlaceOptions, home: readonly boolean[] | undefined, inHome = true): PartitionView | undefined {
  for (let i = 0; i < order.length; i++) {
    const pi = order[i];
    if (home !== undefined && (home[pi] === true) !== inHome) continue;
    const p = view.partitions[pi];
    visit(p.nodes, task, ctx, opts.sampleSize, opts.rng);
    if (ctx.found > 0) return p;
  }
  return undefined;
}

function syncedAtOf(_view: SchedulerView, part: PartitionView | undefined): number {
  return part === undefined ? -Infinity : part.syncedAt;
}

function postFilter(ctx: PlacementContext, task: TaskRequest, failure: PlacementFailure, opts: PlaceOptions): Placement {
  const pfs = ctx.pipeline.postFilters;
  for (let i = 0; i < pfs.length; i++) {
    const r = pfs[i].postFilter(task, failure, ctx);
    if (r !== undefined) {
      const stalenessMs = opts.now - syncedAtOf(ctx.view, ctx.view.partitions[r.node.partition]);
      return { ok: true, node: r.node, score: 0, stalenessMs, evictions: r.evictions, noRoom: failure };
    }
  }
  return failure;
}

/**
 * Places a task by the post-filters alone, for a task whose walk is known to find no room: one
 * of the same shape found none earlier in this call (`failure`, from its placement's `noRoom`),
 * and the view has only filled since. Saves the walk over every node per task of a big job
 * that preempts (the walk was a third of a replica's CPU in a preemption burst at 1,000 nodes).
 */
export function placeByPostFilters(ctx: PlacementContext, task: TaskRequest, failure: PlacementFailure, opts: PlaceOptions): Placement {
  ctx.beginTask(task);
  return postFilter(ctx, task, failure, opts);
}

/**
 * Books a successful placement on the view (`view.assume`, so later tasks of the call see it),
 * tells the plugins' `reserve` hooks, and returns its claim (seenVersion = the node's version at
 * decision). The booking stays until the caller `forget`s it.
 */
export function bookPlacement(ctx: PlacementContext, task: TaskRequest, p: PlacementSuccess): Claim {
  const devices = devicesFor(ctx, p.node, task);
  ctx.view.assume(p.node.id, task.demand, devices);
  ctx.reserve(task, p.node);
  const base: Claim = task.constraints === undefined
    ? { taskId: task.id, jobId: task.jobId, nodeId: p.node.id, demand: task.demand, seenVersion: p.node.version }
    : { taskId: task.id, jobId: task.jobId, nodeId: p.node.id, demand: task.demand, seenVersion: p.node.version, constraints: task.constraints };
  const withDevices: Claim = devices === undefined ? base : { ...base, devices };
  // The committer re-checks the group's rules on the cell (two replicas may race them).
  const claim: Claim = task.rules === undefined ? withDevices : { ...withDevices, rules: task.rules };
  const job = ctx.job;
  if (job === undefined || (job.queue === undefined && job.preemptible !== true)) return claim;
  // The committer books quota by the claim's queue; preemptible tasks count against none.
  return { ...claim, ...(job.queue === undefined ? {} : { queue: job.queue }), ...(job.preemptible === true ? { preemptible: true } : {}) };
}

/** Places one task on the view without booking it (a call of its own). */
export function placeTask(view: SchedulerView, task: TaskRequest, opts: PlaceOptions): Placement {
  return placeInContext(beginPlacement(view, [task], opts), task, opts);
}

export interface JobPlacement {
  claims: Claim[];
  /** One per task, in task order. */
  placements: Placement[];
  unplaced: { task: TaskRequest; placement: PlacementFailure }[];
  /** Evictions the post-filters asked for (empty when none); they go in the claims' transaction. */
  evictions: Eviction[];
}

/**
 * Places every task of a job in one call, booking each choice on the view so later tasks of the
 * job see it. Returns a claim per placed task and the tasks it could not place. The bookings stay
 * until the caller `forget`s them (on the committer's answer, or at once with
 * {@link forgetClaims} when a gang cannot be placed whole).
 */
export function placeJob(view: SchedulerView, tasks: readonly TaskRequest[], opts: PlaceOptions): JobPlacement {
  const ctx = beginPlacement(view, tasks, opts);
  const out: JobPlacement = { claims: [], placements: [], unplaced: [], evictions: [] };
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i];
    const pl = placeInContext(ctx, task, opts);
    out.placements.push(pl);
    if (pl.ok) {
      out.claims.push(bookPlacement(ctx, task, pl));
      if (pl.evictions !== undefined) for (const e of pl.evictions) out.evictions.push(e);
    } else {
      out.unplaced.push({ task, placement: pl });
    }
  }
  return out;
}

/** Drops the view bookings of claims that will not be proposed (e.g. a gang that did not fit whole). */
export function forgetClaims(view: SchedulerView, claims: readonly Claim[]): void {
  for (const c of claims) view.forget(c.nodeId, c.demand, c.devices);
}

const named = new Map<string, { score(node: ScoredNode, task: TaskRequest, ctx: PlacementContext): number }>();

/**
 * The score of `node` for `task` under one scorer, on whatever state the node object holds
 * (reserved counts as taken when present). Used to measure placement quality on fresh state.
 * This is the named scorer alone: a Placement's `score` also averages in soft preferences. Only
 * for scorers that need no placement context (the resource scorers).
 */
export function scoreNode(
  node: { capacity: ResourceVector; allocated: ResourceVector; reserved?: ResourceVector },
  task: TaskRequest,
  scorer: string,
): number {
  let p = named.get(scorer);
  if (p === undefined) named.set(scorer, (p = defaultRegistry.scorer(scorer, undefined, { space: ResourceSpace.default })));
  const s = p.score(node, task, undefined as unknown as PlacementContext);
  return s > 0 ? (s < 1 ? s : 1) : 0;
}
