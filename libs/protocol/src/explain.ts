/**
 * `tessera explain JOB` (DESIGN §14): why a job is pending or unschedulable, asked of cell-state
 * on `queryExplain` — per task group, how many nodes each filter refused and why (Nomad's
 * placement-failure metrics, kube-scheduler's "0/N nodes are available: …"), the job's place in
 * its queue, and the committer's last refusals of its claims.
 */
import { z } from 'zod';

export const explainRequest = z.object({ job: z.string().min(1).max(400) });
export type ExplainRequest = z.output<typeof explainRequest>;

const count = z.number().int().nonnegative();

export const explainGroup = z.object({
  name: z.string(),
  count,
  /** Tasks of the group not placed now (pending). */
  pending: count,
  resources: z.record(z.number()),
  /** Nodes of the cell, and how many could take one more task of the group now. */
  nodes: count,
  feasible: count,
  /** Nodes refused by the first filter that refused them, by reason (largest first). */
  refused: z.array(z.object({ reason: z.string(), nodes: count, unresolvable: z.boolean() })),
  /** One line, kube-scheduler style: `0/120 nodes are available: 100 insufficient resources now, 20 constraint not satisfied`. */
  summary: z.string(),
});
export type ExplainGroup = z.output<typeof explainGroup>;

export const explainReply = z.object({
  ok: z.literal(true),
  job: z.object({
    id: z.string(), tenant: z.string(), queue: z.string(), priority: z.number(), state: z.string(), reason: z.string().optional(),
    submittedAt: z.number().optional(), taskStates: z.record(z.number()),
  }),
  groups: z.array(explainGroup),
  /** The job among the queue's unfinished jobs (ordered by priority, then submission): 1 = next. */
  queue: z.object({ name: z.string(), position: count, waiting: count, quota: z.record(z.unknown()).optional() }),
  /** The committer's last refusals of this job's claims, newest first. */
  conflicts: z.array(z.object({ at: z.number(), task: z.string(), node: z.string(), reason: z.string() })),
});
export type ExplainReply = z.output<typeof explainReply>;
