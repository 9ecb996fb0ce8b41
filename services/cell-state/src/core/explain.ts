/**
 * `tessera explain JOB`, pure: each task group's demand run through the placement filters the
 * schedulers use (node state, label constraints, resource fit; @tessera/policy's functions) over
 * the authoritative nodes — the first filter that refuses a node counts it, as Nomad's
 * `FilterNode(node, reason)` does — the job's place among its queue's unfinished jobs, and the
 * committer's last refusals of its claims.
 */
import { expandTasks, FilterReason, type JobSpec } from '@tessera/core';
import { labelConstraints, nodeReady, resourceFit } from '@tessera/policy';
import type { ExplainGroup, ExplainReply } from '@tessera/protocol';
import type { RememberedConflict } from './conflict-memory.ts';
import { jobListingOf, jobStateOf } from './job-table.ts';
import type { CellModel } from './model.ts';

const UNRESOLVABLE: ReadonlySet<string> = new Set([FilterReason.resources_ever, FilterReason.constraint]);

export function explainJob(model: CellModel, jobId: string, conflicts: readonly RememberedConflict[]): ExplainReply | undefined {
  const job = model.jobs.get(jobId);
  if (job === undefined) return undefined;
  const listing = jobListingOf(job, 0, 0);
  const spec: JobSpec | undefined = job.spec;
  const groups: ExplainGroup[] = [];
  if (spec !== undefined) {
    const firstOfGroup = new Map(expandTasks(spec, model.space).filter((t) => t.index === 0).map((t) => [t.group, t]));
    for (const g of spec.tasks) {
      const task = firstOfGroup.get(g.name);
      const info = job.groups.get(g.name);
      let pending = 0;
      if (info !== undefined) for (let i = 0; i < info.count; i++) if (job.taskState[info.offset + i] === 0) pending++;
      const refused = new Map<string, number>();
      let feasible = 0;
      for (const n of model.cell.nodes) {
        const why = task === undefined ? undefined : nodeReady(n) ?? labelConstraints(n, task) ?? resourceFit(n, task.demand);
        if (why === undefined) feasible++;
        else refused.set(why, (refused.get(why) ?? 0) + 1);
      }
      const list = [...refused].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([reason, nodes]) => ({ reason, nodes, unresolvable: UNRESOLVABLE.has(reason) }));
      const nodes = model.cell.nodeCount;
      groups.push({
        name: g.name, count: g.count, pending, resources: { ...g.resources } as Record<string, number>, nodes, feasible, refused: list,
        summary: `${feasible}/${nodes} nodes are available${list.length > 0 ? `: ${list.map((r) => `${r.nodes} ${r.reason}`).join(', ')}` : ''}`,
      });
    }
  }
  const queue = spec?.queue ?? 'default';
  const priority = spec?.priority ?? 0;
  // Unfinished jobs of the same queue, in the order schedulers take them (priority, then submission).
  const waiting: { id: string; priority: number; submittedAt: number }[] = [];
  for (const other of model.jobs.entries()) {
    if ((other.spec?.queue ?? 'default') !== queue) continue;
    if (jobStateOf(other) !== 'pending') continue;
    waiting.push({ id: other.id, priority: other.spec?.priority ?? 0, submittedAt: other.submittedAt });
  }
  waiting.sort((a, b) => b.priority - a.priority || a.submittedAt - b.submittedAt || (a.id < b.id ? -1 : 1));
  const index = waiting.findIndex((w) => w.id === jobId);
  return {
    ok: true,
    job: {
      id: job.id, tenant: job.tenant, queue, priority, state: listing.state, reason: listing.reason, submittedAt: job.submittedAt,
      taskStates: listing.taskStates ?? {},
    },
    groups,
    queue: { name: queue, position: index < 0 ? 0 : index + 1, waiting: waiting.length },
    conflicts: [...conflicts],
  };
}
