/**
 * Task-group placement rules (DESIGN §12: spread, distinct, affinity, anti_affinity), decided by
 * core's `ruleBreach`, the function the committer's `placement-rules` check uses too. Where tasks
 * are, as this replica knows it: the job's own tasks committed in earlier rounds
 * (`PlacementJob.placed`), the tasks of the view's nodes (when the sync carries them), and the
 * bookings of this placement call. Cross-job rules on a view without tasks cannot be judged
 * here; the committer judges them and refuses with `placement_rule`.
 *
 * A node refused by a rule can take the task later (tasks end, the other job is placed), so the
 * reason is retryable.
 */
import { FilterReason, ruleBreach, satisfiesAll, valueOf, type TaskLocations, type TaskRequest } from '@tessera/core';
import type { PlacementContext } from '../context.ts';
import type { CandidateNode, FilterPlugin } from '../plugin.ts';

export const PLACEMENT_RULES = 'placement-rules';

/** Per placement call: tasks per job and node, and spread's domains per constraint set and label. */
class RuleState {
  private tasks: Map<string, Map<string, number>> | undefined;
  private readonly domainCache = new Map<TaskRequest['constraints'], Map<string, string[]>>();

  constructor(private readonly ctx: PlacementContext) {}

  private index(): Map<string, Map<string, number>> {
    if (this.tasks !== undefined) return this.tasks;
    const m = new Map<string, Map<string, number>>();
    const add = (job: string, node: string) => {
      let j = m.get(job);
      if (j === undefined) m.set(job, (j = new Map()));
      j.set(node, (j.get(node) ?? 0) + 1);
    };
    const job = this.ctx.job;
    // The view's tasks first; the job's own committed tasks then replace its part (they are fresher).
    for (const p of this.ctx.view.partitions) for (const n of p.nodes) if (n.tasks !== undefined) for (const t of n.tasks) if (t.jobId !== job?.id) add(t.jobId, n.id);
    if (job?.placed !== undefined) for (const node of job.placed.values()) if (node !== '') add(job.id, node);
    this.tasks = m;
    return m;
  }

  book(jobId: string, nodeId: string): void {
    if (this.tasks === undefined) return; // built on first use, from state that already holds the booking
    let j = this.tasks.get(jobId);
    if (j === undefined) this.tasks.set(jobId, (j = new Map()));
    j.set(nodeId, (j.get(nodeId) ?? 0) + 1);
  }

  locations(task: TaskRequest): TaskLocations {
    const view = this.ctx.view;
    return {
      tasksOf: (job) => this.index().get(job),
      labelsOf: (nodeId) => view.node(nodeId)?.labels,
      domains: (label) => {
        let byLabel = this.domainCache.get(task.constraints);
        if (byLabel === undefined) this.domainCache.set(task.constraints, (byLabel = new Map()));
        let d = byLabel.get(label);
        if (d === undefined) {
          const out = new Set<string>();
          for (const p of view.partitions) for (const n of p.nodes) {
            if (n.condition !== 'ready' || !satisfiesAll(n.labels, task.constraints)) continue;
            const v = valueOf(n.labels, n.id, label);
            if (v !== undefined) out.add(v);
          }
          byLabel.set(label, (d = [...out]));
        }
        return d;
      },
    };
  }
}

export const placementRulesFilter: FilterPlugin = {
  name: PLACEMENT_RULES,
  unresolvable: [],
  appliesTo: (task) => task.rules !== undefined,
  prepare: (ctx) => (ctx.tasks.some((t) => t.rules !== undefined) ? new RuleState(ctx) : undefined),
  reserve(ctx, task, node) {
    ctx.state<RuleState | undefined>(PLACEMENT_RULES)?.book(task.jobId, node.id);
  },
  filter(node: CandidateNode, task: TaskRequest, ctx: PlacementContext) {
    if (task.rules === undefined) return undefined;
    const state = ctx.state<RuleState | undefined>(PLACEMENT_RULES);
    if (state === undefined) return undefined;
    // A bare candidate without an id (a plugin unit test) can only be judged by its labels.
    return ruleBreach(task.rules, task.jobId, { id: node.id ?? '', labels: node.labels }, state.locations(task)) === undefined ? undefined : FilterReason.placement_rule;
  },
};
