/**
 * Placement: filters → scorers → the mode picks a node, on a scheduler's (possibly stale) view.
 * Pure: time and randomness come in through the options; nothing here reads a clock or does I/O.
 *
 * Hot-path notes: a decision allocates only its result. Nodes are visited in place (no candidate
 * arrays), plugin scratch lives in the Pipeline, and the partition order / flat node list are
 * cached per view (see view-index.ts).
 */
import type { Claim, PartitionView, ResourceVector, SchedulerView, TaskRequest, ViewNode } from '@tessera/core';
import type { EffectiveMode } from './modes.ts';
import { defaultPipeline, type Pipeline, type ScorerName } from './pipeline.ts';
import type { Rng } from './rng.ts';
import { coprimeStride } from './sampling.ts';
import { flatNodes, viewIndex } from './view-index.ts';
import { defaultRegistry } from './registry.ts';

export interface PlaceOptions {
  /** `adaptive` is resolved (by AdaptiveMode) before calling. */
  mode: EffectiveMode;
  scorer: ScorerName;
  /** Feasible candidates scored per task; 0 = score every feasible node. */
  sampleSize: number;
  /** ms, same clock as PartitionView.syncedAt. */
  now: number;
  rng: Rng;
  /**
   * A custom pipeline (other filters, scorers or weights). When given, `scorer` is ignored.
   * Default: core filters + `scorer` + soft preferences.
   */
  pipeline?: Pipeline;
}

/**
 * The outcome for one task. On failure, `reasons` counts the nodes refused per reason; every node
 * of the view was visited, so the counts sum to the view's node count (an empty record means the
 * view holds no nodes yet). `retryable` is false when no node could ever take the task (larger
 * than every node, constraints match none); then retrying on fresher state cannot help.
 */
export type Placement =
  | { ok: true; node: ViewNode; score: number; stalenessMs: number }
  | { ok: false; retryable: boolean; reasons: Record<string, number> };

export type PlacementFailure = Placement & { ok: false };

interface Best {
  node: ViewNode | undefined;
  score: number;
  found: number;
}

// Module scratch for the visit loop (placement is synchronous, so one is enough).
const best: Best = { node: undefined, score: -1, found: 0 };

/**
 * Visits `nodes` from a seeded start with a seeded coprime stride, filtering and scoring, until
 * `limit` feasible candidates were scored (limit 0: all). Leaves the winner in `best`.
 */
function visit(nodes: readonly ViewNode[], task: TaskRequest, pipeline: Pipeline, limit: number, rng: Rng): void {
  const n = nodes.length;
  if (n === 0) return;
  let idx = n === 1 ? 0 : rng.int(n);
  const stride = coprimeStride(n, rng);
  for (let k = 0; k < n; k++) {
    const node = nodes[idx];
    idx += stride;
    if (idx >= n) idx -= n;
    const reason = pipeline.rejection(node, task);
    if (reason !== undefined) {
      pipeline.reject(reason);
      continue;
    }
    const s = pipeline.score(node, task);
    if (s > best.score) {
      best.score = s;
      best.node = node;
    }
    if (++best.found === limit) return;
  }
}

function resetBest(): void {
  best.node = undefined;
  best.score = -1;
  best.found = 0;
}

function checkOptions(opts: PlaceOptions): void {
  const s = opts.sampleSize;
  if (!(s >= 0) || !Number.isInteger(s)) throw new RangeError(`sampleSize must be an integer ≥ 0, got ${s}`);
  if (opts.mode !== 'latency-first' && opts.mode !== 'quality-first' && opts.mode !== 'state-sync') {
    throw new RangeError(`placement mode must be latency-first, quality-first or state-sync, got ${String(opts.mode)} (resolve adaptive with AdaptiveMode first)`);
  }
}

function failure(pipeline: Pipeline, visited: boolean): PlacementFailure {
  // Nothing visited (an empty view) is retryable: nodes may still register or sync in.
  return { ok: false, retryable: !visited || pipeline.anyResolvable(), reasons: pipeline.reasons() };
}

/**
 * Places one task on the view without booking it.
 * - `latency-first`: partitions from the most recently synced; the first partition holding a
 *   feasible node wins, and its best sampled node is chosen.
 * - `quality-first` / `state-sync`: the best sampled feasible node anywhere, however stale.
 */
export function placeTask(view: SchedulerView, task: TaskRequest, opts: PlaceOptions): Placement {
  checkOptions(opts);
  const pipeline = opts.pipeline ?? defaultPipeline(opts.scorer);
  const ix = viewIndex(view);
  pipeline.beginTask(task);
  resetBest();

  let part: PartitionView | undefined;
  if (opts.mode === 'latency-first') {
    const order = ix.order;
    for (let i = 0; i < order.length; i++) {
      const p = view.partitions[order[i]];
      visit(p.nodes, task, pipeline, opts.sampleSize, opts.rng);
      if (best.found > 0) {
        part = p;
        break;
      }
    }
  } else {
    visit(flatNodes(view, ix), task, pipeline, opts.sampleSize, opts.rng);
  }

  const node = best.node;
  const score = best.score;
  resetBest(); // do not keep view nodes alive from module scope
  if (node === undefined) return failure(pipeline, ix.total > 0);
  part ??= view.partitions[node.partition];
  const syncedAt = part === undefined ? -Infinity : part.syncedAt;
  return { ok: true, node, score, stalenessMs: opts.now - syncedAt };
}

export interface JobPlacement {
  claims: Claim[];
  /** One per task, in task order. */
  placements: Placement[];
  unplaced: { task: TaskRequest; placement: PlacementFailure }[];
}

/**
 * Places every task of a job, booking each choice on the view (`view.assume`) so later tasks of
 * the job see it. Returns a claim per placed task (seenVersion = the node's version at decision)
 * and the tasks it could not place. The bookings stay until the caller `forget`s them (on the
 * committer's answer, or at once with {@link forgetClaims} when a gang cannot be placed whole).
 */
export function placeJob(view: SchedulerView, tasks: readonly TaskRequest[], opts: PlaceOptions): JobPlacement {
  const claims: Claim[] = [];
  const placements: Placement[] = [];
  const unplaced: { task: TaskRequest; placement: PlacementFailure }[] = [];
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i];
    const pl = placeTask(view, task, opts);
    placements.push(pl);
    if (pl.ok) {
      view.assume(pl.node.id, task.demand);
      const claim: Claim = task.constraints === undefined
        ? { taskId: task.id, jobId: task.jobId, nodeId: pl.node.id, demand: task.demand, seenVersion: pl.node.version }
        : { taskId: task.id, jobId: task.jobId, nodeId: pl.node.id, demand: task.demand, seenVersion: pl.node.version, constraints: task.constraints };
      claims.push(claim);
    } else {
      unplaced.push({ task, placement: pl });
    }
  }
  return { claims, placements, unplaced };
}

/** Drops the view bookings of claims that will not be proposed (e.g. a gang that did not fit whole). */
export function forgetClaims(view: SchedulerView, claims: readonly Claim[]): void {
  for (const c of claims) view.forget(c.nodeId, c.demand);
}

/**
 * The score of `node` for `task` under one scorer, on whatever state the node object holds
 * (reserved counts as taken when present). Used to measure placement quality on fresh state.
 * This is the named scorer alone: a Placement's `score` also averages in soft preferences.
 */
export function scoreNode(
  node: { capacity: ResourceVector; allocated: ResourceVector; reserved?: ResourceVector },
  task: TaskRequest,
  scorer: ScorerName,
): number {
  const s = defaultRegistry.scorer(scorer).score(node, task);
  return s > 0 ? (s < 1 ? s : 1) : 0;
}
