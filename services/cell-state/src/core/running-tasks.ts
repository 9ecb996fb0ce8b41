/**
 * The running tasks of each node of a partition sync, for schedulers that preempt (sync request
 * `tasks: true`): from the node's allocations, with the job's priority from the job table and the
 * commit time of each claim (the min-runtime rule counts from it).
 */
import type { NodeSnapshot, PartitionSync, RunningTask } from '@tessera/core';
import type { CellModel } from './model.ts';

/** A task of a job not read yet is never a victim for its priority (it is listed at the highest). */
const UNKNOWN_PRIORITY = 1_000_000;

export function runningTasksOf(model: CellModel, nodeId: string): RunningTask[] {
  const n = model.cell.node(nodeId);
  if (n === undefined) return [];
  const out: RunningTask[] = [];
  for (const a of n.allocations.values()) {
    const spec = model.jobs.get(a.jobId)?.spec;
    out.push({
      taskId: a.taskId, jobId: a.jobId, demand: a.demand,
      priority: spec?.priority ?? UNKNOWN_PRIORITY,
      queue: a.queue ?? 'default', preemptible: a.preemptible === true,
      startedAt: model.assignedAt.get(a.taskId) ?? 0,
      ...(spec?.gang === true ? { gang: true } : {}),
    });
  }
  return out;
}

export function withRunningTasks(model: CellModel, s: PartitionSync): PartitionSync {
  const nodes: NodeSnapshot[] = s.nodes.map((n) => ({ ...n, tasks: runningTasksOf(model, n.id) }));
  return { ...s, nodes };
}
