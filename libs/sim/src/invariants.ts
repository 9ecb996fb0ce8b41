/**
 * DESIGN §5 invariants, checked on a simulator's final state (tests, and `--check` runs).
 * Each returns human-readable violations; an empty list means the invariant holds.
 */
import type { CellState, NodeState, ResourceSpace } from '@tessera/core';
import type { JobRun } from '@tessera/replica';
import type { EvictionRecord } from './preemption.ts';

const EPS = 1e-6;

/** §5.1 for one node: allocation ≤ capacity, and the allocation is the sum of its tasks'. */
export function nodeViolations(n: NodeState, space: ResourceSpace): string[] {
  const out: string[] = [];
  const dims = space.size;
  const sum = new Float64Array(dims);
  for (const a of n.allocations.values()) for (let i = 0; i < dims; i++) sum[i] += a.demand[i];
  for (let i = 0; i < dims; i++) {
    if (n.allocated[i] > n.capacity[i] + EPS) out.push(`node ${n.id}: ${space.names[i]} allocated ${n.allocated[i]} > capacity ${n.capacity[i]}`);
    if (Math.abs(n.allocated[i] - sum[i]) > EPS * Math.max(1, sum[i])) out.push(`node ${n.id}: ${space.names[i]} allocated ${n.allocated[i]} ≠ Σ tasks ${sum[i]}`);
  }
  return out;
}

/** §5.1: no node over-committed, and each node's allocation is the sum of its tasks'. */
export function cellViolations(cell: CellState): string[] {
  const out: string[] = [];
  for (const n of cell.nodes) for (const v of nodeViolations(n, cell.space)) out.push(v);
  return out;
}

/**
 * §5.2/§5.3: every finished job accounts for each task exactly once (placed or given up), no task
 * is placed by two jobs or twice, a placed job gave up nothing, a gang is all or nothing.
 * With preemption, a victim's hand-back is a run of its own: a task may be placed once more per
 * eviction it was placed again after (`evictions`: the run's ledger), never more.
 */
export function jobViolations(finished: readonly JobRun[], evictions: readonly EvictionRecord[] = []): string[] {
  const out: string[] = [];
  const allowed = new Map<string, number>();
  const victimsGivenUp = new Set<string>();
  for (const e of evictions) {
    if (e.placedAgainAtMs !== undefined) allowed.set(e.taskId, (allowed.get(e.taskId) ?? 0) + 1);
    if (e.givenUp) victimsGivenUp.add(e.taskId);
  }
  const placed = new Map<string, number>();
  const givenUp = new Set<string>();
  for (const run of finished) {
    if (run.state !== 'placed' && run.state !== 'unschedulable') out.push(`job ${run.jobId}: finished in state ${run.state}`);
    if (run.placed.size + run.failed.length !== run.taskCount) out.push(`job ${run.jobId}: ${run.placed.size} placed + ${run.failed.length} given up ≠ ${run.taskCount} tasks`);
    if (run.state === 'placed' && run.failed.length > 0) out.push(`job ${run.jobId}: placed with ${run.failed.length} tasks given up`);
    if (run.gang && run.placed.size !== 0 && run.placed.size !== run.taskCount) out.push(`gang ${run.jobId}: ${run.placed.size} of ${run.taskCount} tasks placed`);
    if (run.inFlight.size > 0) out.push(`job ${run.jobId}: ${run.inFlight.size} transactions still in flight`);
    for (const id of run.placed.keys()) {
      const n = (placed.get(id) ?? 0) + 1;
      placed.set(id, n);
      if (n > 1 + (allowed.get(id) ?? 0)) out.push(`task ${id} placed twice`);
    }
    for (const t of run.failed) {
      if (givenUp.has(t.id)) out.push(`task ${t.id} given up twice`);
      givenUp.add(t.id);
    }
  }
  for (const id of givenUp) {
    // A victim given up after it ran was placed and given up; anything else cannot be both.
    if (placed.has(id) && !victimsGivenUp.has(id)) out.push(`task ${id} both placed and given up`);
  }
  return out;
}

/**
 * DESIGN §11: every evicted task was re-queued exactly once for that eviction, and was placed
 * again (after it was evicted) or reported given up, not both; a task is evicted again only
 * after it was placed again. `pendingAtEnd` victims (a run stopped early) are reported as such.
 */
export function evictionViolations(ledger: readonly EvictionRecord[]): string[] {
  const out: string[] = [];
  const last = new Map<string, EvictionRecord>();
  for (const e of ledger) {
    if (e.requeued !== 1) out.push(`task ${e.taskId}: re-queued ${e.requeued} times for its eviction at ${e.atMs} ms`);
    if (e.placedAgainAtMs !== undefined && e.givenUp) out.push(`task ${e.taskId}: both placed again and given up after its eviction at ${e.atMs} ms`);
    if (e.placedAgainAtMs === undefined && !e.givenUp) out.push(`task ${e.taskId}: evicted at ${e.atMs} ms, neither placed again nor reported`);
    if (e.placedAgainAtMs !== undefined && !(e.placedAgainAtMs >= e.atMs)) out.push(`task ${e.taskId}: placed again at ${e.placedAgainAtMs} ms, before its eviction at ${e.atMs} ms`);
    const prev = last.get(e.taskId);
    if (prev !== undefined && !(prev.placedAgainAtMs !== undefined && prev.placedAgainAtMs <= e.atMs)) out.push(`task ${e.taskId}: evicted at ${e.atMs} ms without being placed again since its eviction at ${prev.atMs} ms`);
    last.set(e.taskId, e);
  }
  return out;
}
