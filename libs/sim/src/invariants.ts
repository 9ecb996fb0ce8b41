/**
 * DESIGN §5 invariants, checked on a simulator's final state (tests, and `--check` runs).
 * Each returns human-readable violations; an empty list means the invariant holds.
 */
import type { CellState } from '@tessera/core';
import type { JobRun } from '@tessera/replica';

const EPS = 1e-6;

/** §5.1: no node over-committed, and each node's allocation is the sum of its tasks'. */
export function cellViolations(cell: CellState): string[] {
  const out: string[] = [];
  const dims = cell.space.size;
  const sum = new Float64Array(dims);
  for (const n of cell.nodes) {
    sum.fill(0);
    for (const a of n.allocations.values()) for (let i = 0; i < dims; i++) sum[i] += a.demand[i];
    for (let i = 0; i < dims; i++) {
      if (n.allocated[i] > n.capacity[i] + EPS) out.push(`node ${n.id}: ${cell.space.names[i]} allocated ${n.allocated[i]} > capacity ${n.capacity[i]}`);
      if (Math.abs(n.allocated[i] - sum[i]) > EPS * Math.max(1, sum[i])) out.push(`node ${n.id}: ${cell.space.names[i]} allocated ${n.allocated[i]} ≠ Σ tasks ${sum[i]}`);
    }
  }
  return out;
}

/**
 * §5.2/§5.3: every finished job accounts for each task exactly once (placed or given up), no task
 * is placed by two jobs or twice, a placed job gave up nothing, a gang is all or nothing.
 */
export function jobViolations(finished: readonly JobRun[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const run of finished) {
    if (run.state !== 'placed' && run.state !== 'unschedulable') out.push(`job ${run.jobId}: finished in state ${run.state}`);
    if (run.placed.size + run.failed.length !== run.taskCount) out.push(`job ${run.jobId}: ${run.placed.size} placed + ${run.failed.length} given up ≠ ${run.taskCount} tasks`);
    if (run.state === 'placed' && run.failed.length > 0) out.push(`job ${run.jobId}: placed with ${run.failed.length} tasks given up`);
    if (run.gang && run.placed.size !== 0 && run.placed.size !== run.taskCount) out.push(`gang ${run.jobId}: ${run.placed.size} of ${run.taskCount} tasks placed`);
    if (run.inFlight.size > 0) out.push(`job ${run.jobId}: ${run.inFlight.size} transactions still in flight`);
    for (const id of run.placed.keys()) {
      if (seen.has(id)) out.push(`task ${id} placed twice`);
      seen.add(id);
    }
    for (const t of run.failed) {
      if (seen.has(t.id)) out.push(`task ${t.id} both placed and given up`);
      seen.add(t.id);
    }
  }
  return out;
}
