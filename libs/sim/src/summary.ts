/**
 * The reported figures of a run (the `--json` output). Definitions:
 * - placements: tasks committed (jobs submitted after the warm-up).
 * - proposed_claims / conflicts: claims sent to the committer / refused by it; conflict_fraction =
 *   conflicts / proposed_claims. conflicts_by_reason splits them (`gang_aborted` are the claims of a
 *   gang refused because another claim of the gang was).
 * - retries_per_placement: claims proposed again after a refusal, per placement.
 * - delay_ms: per placed job, submit → its last task committed (queueing, decision rounds,
 *   backoffs, commits). Jobs given up are counted in `unschedulable`, not here.
 * - staleness_ms: per proposed claim, the age of the view of the chosen node's partition when the
 *   claim reaches the committer (time since that partition's last sync, plus the decision time).
 * - quality: mean over committed claims of score(chosen node) / best score among the chosen node
 *   and `qualitySample` random nodes that can take the task, all scored on the authoritative state
 *   just before the commit with the run's scorer (1.0 = nothing better found).
 * - utilization: over the window warm-up → last arrival, the time-averaged allocation / capacity
 *   of the bottleneck resource (max over resources of the averages); per resource in
 *   utilization_by_resource.
 * - scheduler_busy: mean fraction of simulated time the schedulers spent deciding.
 * - preemption (only when on): evictions (victims evicted), preemptor_tasks (committed claims whose
 *   placement needed evictions), victims_per_preemptor = evictions / preemptor_tasks, requeued,
 *   placed_again, given_up, pending_at_end (victims neither: only when a run stopped early),
 *   replace_delay_ms (eviction → committed again), lost_task_s (Σ victims' run time when evicted:
 *   a victim starts again from scratch), over_commits (nodes over capacity after a commit).
 * - delay_by_class (only with productionPriority): per class (production: priority ≥ it; batch:
 *   below), measured jobs placed and given up, tasks of the placed ones, and their delay_ms.
 * - invariants (only for runs with `check`): DESIGN §5/§11 violations found (first few of each
 *   kind, and how many): cell (over-commit, allocation ≠ Σ tasks), jobs, evictions, over_commits.
 * - wall_s: wall-clock seconds of the run; the only field that varies between identical runs.
 */
import type { ResourceSpace } from '@tessera/core';
import type { ClassStats, SimConfig, SimStats } from './engine.ts';
import type { Samples } from './samples.ts';

export interface Summary {
  config: Record<string, unknown>;
  jobs: number;
  tasks: number;
  jobs_measured: number;
  placements: number;
  proposed_claims: number;
  conflicts: number;
  conflict_fraction: number;
  conflicts_by_reason: Record<string, number>;
  retries_per_placement: number;
  delay_ms: { p50: number; p90: number; p99: number; mean: number; max: number };
  staleness_ms: { mean: number; p99: number };
  quality: number;
  utilization: number;
  utilization_by_resource: Record<string, number>;
  unschedulable: number;
  unschedulable_tasks: number;
  unschedulable_reasons: Record<string, number>;
  transactions: number;
  commit_batches: number;
  sync_rounds: number;
  synced_nodes: number;
  scheduler_busy: number;
  mode_rounds: Record<string, number>;
  /** Claims by freshness rank of the chosen partition (0 = freshest): share of claims and their conflict fraction. */
  by_freshness_rank: { rank: number; share: number; conflict_fraction: number }[];
  events: number;
  sim_time_s: number;
  timeline?: TimelineRow[];
  preemption?: PreemptionSummary;
  delay_by_class?: { production: ClassSummary; batch: ClassSummary };
  invariants?: InvariantsSummary;
  wall_s?: number;
}

export interface ClassSummary {
  jobs_placed: number;
  tasks_placed: number;
  unschedulable: number;
  delay_ms: { p50: number; p90: number; p99: number; mean: number; max: number };
}

/** Per kind: how many violations, and the first few. */
export type InvariantsSummary = Record<'cell' | 'jobs' | 'evictions' | 'over_commits', { count: number; first: string[] }>;

export interface PreemptionSummary {
  evictions: number;
  preempting_txns: number;
  preemptor_tasks: number;
  victims_per_preemptor: number;
  requeued: number;
  placed_again: number;
  given_up: number;
  pending_at_end: number;
  replace_delay_ms: { p50: number; p99: number; max: number };
  /** Victims' run time thrown away (task·s): each starts again from scratch. */
  lost_task_s: number;
  over_commits: number;
}

export interface TimelineRow {
  t_s: number;
  jobs: number;
  delay_p50_ms: number;
  delay_p99_ms: number;
  utilization: number;
  conflict_fraction: number;
}

const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : x);
const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

function sortedRecord(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}

export function summarize(stats: SimStats, config: SimConfig, space: ResourceSpace, describe: Record<string, unknown> = {}): Summary {
  const windowMs = stats.windowEndMs - stats.windowStartMs;
  const byResource: Record<string, number> = {};
  let util = 0;
  for (let i = 0; i < space.size; i++) {
    if (!(stats.capacity[i] > 0)) continue;
    const u = windowMs > 0 ? stats.allocatedArea[i] / (stats.capacity[i] * windowMs) : 0;
    byResource[space.names[i]] = r6(u);
    if (u > util) util = u;
  }
  let busy = 0;
  for (const b of stats.busyMs) busy += b;
  busy = stats.simEndMs > 0 ? busy / (stats.busyMs.length * stats.simEndMs) : 0;
  const d = stats.delayMs;
  const s: Summary = {
    config: { ...describe, ...configRecord(config) },
    jobs: stats.jobsSubmitted,
    tasks: stats.tasksSubmitted,
    jobs_measured: stats.jobsMeasured,
    placements: stats.placements,
    proposed_claims: stats.proposedClaims,
    conflicts: stats.conflicts,
    conflict_fraction: r6(stats.proposedClaims > 0 ? stats.conflicts / stats.proposedClaims : 0),
    conflicts_by_reason: sortedRecord(stats.conflictsByReason),
    retries_per_placement: r6(stats.placements > 0 ? stats.retriedClaims / stats.placements : 0),
    delay_ms: delays(d),
    staleness_ms: { mean: r3(stats.stalenessMs.mean()), p99: r3(stats.stalenessMs.percentile(99)) },
    quality: r6(stats.qualityCount > 0 ? stats.qualitySum / stats.qualityCount : 0),
    utilization: r6(util),
    utilization_by_resource: byResource,
    unschedulable: stats.jobsUnschedulable,
    unschedulable_tasks: stats.tasksUnschedulable,
    unschedulable_reasons: sortedRecord(stats.unschedulableReasons),
    transactions: stats.transactions,
    commit_batches: stats.commitBatches,
    sync_rounds: stats.syncRounds,
    synced_nodes: stats.syncedNodes,
    scheduler_busy: r6(busy),
    mode_rounds: sortedRecord(stats.modeRounds),
    by_freshness_rank: byRank(stats),
    events: stats.events,
    sim_time_s: r3(stats.simEndMs / 1000),
  };
  if (stats.byClass !== undefined) s.delay_by_class = { production: classSummary(stats.byClass.production), batch: classSummary(stats.byClass.batch) };
  const p = stats.preemption;
  if (p !== undefined) {
    const rd = p.replaceDelayMs;
    s.preemption = {
      evictions: p.evictions, preempting_txns: p.preemptingTxns, preemptor_tasks: p.preemptorTasks,
      victims_per_preemptor: r6(p.preemptorTasks > 0 ? p.evictions / p.preemptorTasks : 0),
      requeued: p.requeued, placed_again: p.placedAgain, given_up: p.givenUp,
      pending_at_end: p.evictions - p.placedAgain - p.givenUp,
      replace_delay_ms: { p50: r3(rd.percentile(50)), p99: r3(rd.percentile(99)), max: r3(rd.max()) },
      lost_task_s: r3(p.lostTaskMs / 1000),
      over_commits: p.overCommits.length,
    };
  }
  if (config.timelineBucketS > 0) {
    const bMs = config.timelineBucketS * 1000;
    s.timeline = stats.timeline.map((b) => {
      let u = 0;
      for (let i = 0; i < space.size; i++) if (stats.capacity[i] > 0) u = Math.max(u, b.allocatedArea[i] / (stats.capacity[i] * bMs));
      return {
        t_s: b.startS,
        jobs: b.jobs,
        delay_p50_ms: r3(b.delayMs.percentile(50)),
        delay_p99_ms: r3(b.delayMs.percentile(99)),
        utilization: r6(u),
        conflict_fraction: r6(b.proposed > 0 ? b.conflicts / b.proposed : 0),
      };
    });
  }
  return s;
}

function delays(d: Samples): Summary['delay_ms'] {
  return { p50: r3(d.percentile(50)), p90: r3(d.percentile(90)), p99: r3(d.percentile(99)), mean: r3(d.mean()), max: r3(d.max()) };
}

function classSummary(c: ClassStats): ClassSummary {
  return { jobs_placed: c.jobsPlaced, tasks_placed: c.tasksPlaced, unschedulable: c.jobsUnschedulable, delay_ms: delays(c.delayMs) };
}

function byRank(stats: SimStats): Summary['by_freshness_rank'] {
  let total = 0;
  for (const x of stats.proposedByRank) total += x;
  const out: Summary['by_freshness_rank'] = [];
  stats.proposedByRank.forEach((n, rank) => {
    if (n > 0) out.push({ rank, share: r6(n / total), conflict_fraction: r6(stats.refusedByRank[rank] / n) });
  });
  return out;
}

function configRecord(c: SimConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'number' && !Number.isFinite(v)) out[k] = String(v);
    else if (v !== null && typeof v === 'object') out[k] = configRecord(v as SimConfig);
    else out[k] = v;
  }
  return out;
}
