/**
 * The preemption post-filter (DESIGN §11, kube-scheduler's DefaultPreemption): when a
 * non-preemptible task fits no node because nodes are full now, find the node where the fewest,
 * least important eligible victims make room (preemption/victims.ts) and place the task there
 * with those evictions, in the same transaction as its claim. The committer re-checks that each
 * victim is still there and that the policy allows evicting it.
 *
 * Never runs for a failure waiting cannot fix (the pipeline only asks post-filters about
 * retryable failures), nor when room is not the problem (constraints, nodes not ready, quota), nor
 * for a preemptible task. The view must carry each node's tasks (a sync with `tasks: true`);
 * nodes without them offer no victims.
 *
 * Args: `{ priorityGap?: 10, minRuntimeS?: 30, maxCandidates?: 100, maxPerSecond?: 1000 }`.
 * `maxPerSecond` bounds preempting placements per replica (a token bucket with a one-second
 * burst), so a burst of high-priority work cannot evict the cell at once: the rest waits for
 * the next round, like any task without room.
 */
import {
  DEFAULT_PREEMPTION_MAX_CANDIDATES, DEFAULT_PREEMPTION_MIN_RUNTIME_S, DEFAULT_PREEMPTION_PRIORITY_GAP, FilterReason,
  type PreemptionPolicy, type Preemptor, type TaskRequest, type ViewNode,
} from '@tessera/core';
import { z } from 'zod';
import type { PlacementContext } from '../context.ts';
import { PluginArgsError } from '../errors.ts';
import { RESOURCE_FIT } from '../filters/resource-fit.ts';
import type { PluginHandle, PostFilterFailure, PostFilterPlugin, PostFilterResult } from '../plugin.ts';
import { PreemptionSession, type PreemptionNode } from '../preemption/victims.ts';

export const PREEMPTION = 'preemption';
/**
 * Preempting placements per second per scheduler. A safety valve, not what keeps preemption from
 * looping (the minimum run time, the priority gap and the committer's strict dominant-share check
 * do that): YARN's default bound is 10 % of the cluster per 3 s round, about 1,000 tasks a second
 * in a cell of 1,000 nodes of 30 tasks. 50 held a burst of 5,928 production tasks at 200 a second
 * for 4 replicas: delay p50 18.7 s against 12.2 s with 1,000 (docs/policy.md).
 */
export const DEFAULT_PREEMPTION_MAX_PER_SECOND = 1000;

const argsSchema = z.object({
  priorityGap: z.number().int().min(0).max(1_000_000).optional(),
  minRuntimeS: z.number().finite().min(0).optional(),
  maxCandidates: z.number().int().min(1).max(1_000_000).optional(),
  maxPerSecond: z.number().finite().positive().optional(),
}).strict();
export type PreemptionArgs = z.input<typeof argsSchema>;

/** A token bucket: `rate` per second, at most `rate` saved up. Time comes in. */
class RateLimit {
  private tokens: number;
  private at = -Infinity;
  constructor(private readonly rate: number) {
    this.tokens = rate;
  }
  available(now: number): boolean {
    if (now > this.at) {
      this.tokens = Math.min(this.rate, this.tokens + (this.at === -Infinity ? this.rate : ((now - this.at) / 1000) * this.rate));
      this.at = now;
    }
    return this.tokens >= 1;
  }
  take(): void {
    this.tokens -= 1;
  }
}

/**
 * The view's nodes in the call's visit order: the replica's home partitions first (when it has
 * some), each group from a seeded partition and each partition from a seeded node, as placement
 * starts. The first helpful nodes found are the candidates (`maxCandidates`), so replicas walking
 * in one fixed order would all pick the same victims and refuse each other at the committer.
 */
function* visitOrder(ctx: PlacementContext): Generator<ViewNode> {
  const parts = ctx.view.partitions;
  const home = ctx.homePartitions;
  const rng = ctx.rng;
  const start = rng === undefined || parts.length <= 1 ? 0 : rng.int(parts.length);
  for (const inHome of home === undefined ? [true] : [true, false]) {
    for (let k = 0; k < parts.length; k++) {
      const pi = (start + k) % parts.length;
      if (home !== undefined && (home[pi] === true) !== inHome) continue;
      const nodes = parts[pi].nodes;
      const offset = rng === undefined || nodes.length <= 1 ? 0 : rng.int(nodes.length);
      for (let j = 0; j < nodes.length; j++) yield nodes[(offset + j) % nodes.length];
    }
  }
}

/** A view node as victim selection sees it (its synced tasks; none when the sync carried none). */
function asPreemptionNode(n: ViewNode): PreemptionNode {
  return { id: n.id, capacity: n.capacity, allocated: n.allocated, reserved: n.reserved, tasks: n.tasks ?? [] };
}

export function preemptionPostFilter(args: unknown, h: PluginHandle): PostFilterPlugin {
  const parsed = argsSchema.safeParse(args ?? {});
  if (!parsed.success) throw new PluginArgsError(PREEMPTION, parsed.error.issues[0].message);
  const a = parsed.data;
  const policy: PreemptionPolicy = {
    priorityGap: a.priorityGap ?? DEFAULT_PREEMPTION_PRIORITY_GAP,
    minRuntimeMs: (a.minRuntimeS ?? DEFAULT_PREEMPTION_MIN_RUNTIME_S) * 1000,
    maxCandidates: a.maxCandidates ?? DEFAULT_PREEMPTION_MAX_CANDIDATES,
  };
  // One per plugin instance, i.e. per replica's pipeline: the bound is per scheduler.
  const rate = new RateLimit(a.maxPerSecond ?? DEFAULT_PREEMPTION_MAX_PER_SECOND);
  const dims = h.space.size;
  return {
    name: PREEMPTION,
    // Reclaim (a queue below its guarantee taking from one above) needs the queue usage the replica heard.
    prepare: (ctx: PlacementContext) => new PreemptionSession(dims, ctx.quota),
    postFilter(task: TaskRequest, failure: PostFilterFailure, ctx: PlacementContext): PostFilterResult | undefined {
      if (!((failure.reasons[FilterReason.resources_now] ?? 0) > 0)) return undefined;
      const job = ctx.job;
      if (job?.preemptible === true || !rate.available(ctx.now)) return undefined;
      const preemptor: Preemptor = {
        taskId: task.id, jobId: task.jobId, demand: task.demand, priority: task.priority, queue: job?.queue ?? 'default', preemptible: false,
      };
      const byId = new Map<string, ViewNode>();
      function* candidates(): Generator<PreemptionNode> {
        for (const n of visitOrder(ctx)) {
          if (n.tasks === undefined || n.tasks.length === 0) continue;
          byId.set(n.id, n);
          yield asPreemptionNode(n);
        }
      }
      const allows = (pn: PreemptionNode): boolean => {
        const n = byId.get(pn.id)!;
        for (const f of ctx.pipeline.filters) if (f.name !== RESOURCE_FIT && f.filter(n, task, ctx) !== undefined) return false;
        return true;
      };
      const session = ctx.state<PreemptionSession>(PREEMPTION);
      // The task's own booking shows in the view (`reserved`) once placement books it.
      const choice = session.choose(candidates(), preemptor, policy, ctx.now, allows, false);
      if (choice === undefined) return undefined;
      if (choice.victims.length > 0) rate.take();
      return { node: byId.get(choice.nodeId)!, evictions: choice.victims.map((v) => ({ taskId: v.task.taskId, nodeId: choice.nodeId })) };
    },
  };
}
