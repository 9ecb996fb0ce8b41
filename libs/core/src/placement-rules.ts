/**
 * Task-group placement rules (DESIGN §12): where a task may go given where its job's tasks, and
 * other jobs' tasks, already are. Pure, and shared by the scheduler's filter (libs/policy
 * filters/placement-rules.ts, on its view) and the committer's claim check
 * (checks/placement-rules.ts, on the authoritative cell), so both ask exactly the same question.
 *
 * - `spread {label, maxSkew}`: topology spread of the job's tasks over the label's values
 *   (kube-scheduler's topologySpreadConstraints, whenUnsatisfiable: DoNotSchedule): after placing,
 *   the task's value may hold at most `maxSkew` more of the job's tasks than the value holding
 *   fewest. Nodes without the label are not eligible.
 * - `distinct {label, limit}`: at most `limit` of the job's tasks per value of the label; label
 *   `node` means per node (Nomad's distinct_hosts / distinct_property).
 * - `affinity [{job, label}]`: only on a value of `label` where `job` already has a task.
 * - `antiAffinity [{job, label}]`: never on a value of `label` where `job` has a task. A node
 *   without the label collides with nothing.
 * A rule naming the job itself counts its own tasks.
 */

/** The label that means "the node itself" (each node its own value). */
export const NODE_LABEL = 'node';

export interface JobRule {
  readonly job: string;
  readonly label: string;
}

export interface PlacementRules {
  readonly spread?: { readonly label: string; readonly maxSkew: number };
  readonly distinct?: { readonly label: string; readonly limit: number };
  readonly affinity?: readonly JobRule[];
  readonly antiAffinity?: readonly JobRule[];
}

/** Which rule a node breaks (the filter's and the committer's reason detail). */
export type RuleBreach = 'spread' | 'distinct' | 'affinity' | 'anti_affinity';

/** What rules read of a node. */
export interface RuleNode {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Where tasks are, as the caller knows it (the view plus bookings, or the cell plus the
 * transaction's accepted claims): per job, tasks per node.
 */
export interface TaskLocations {
  /** Tasks of `job` per node id (undefined or empty: none anywhere). */
  tasksOf(job: string): ReadonlyMap<string, number> | undefined;
  /** A node's labels by id (undefined: unknown node, its tasks count nowhere). */
  labelsOf(nodeId: string): Readonly<Record<string, string>> | undefined;
  /** Every value `label` takes over the eligible nodes (spread's domains). */
  domains(label: string): Iterable<string>;
}

export function valueOf(labels: Readonly<Record<string, string>>, nodeId: string, label: string): string | undefined {
  return label === NODE_LABEL ? nodeId : labels[label];
}

/** Tasks of `job` per value of `label`. */
function countsByValue(loc: TaskLocations, job: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const nodes = loc.tasksOf(job);
  if (nodes === undefined) return out;
  for (const [nodeId, n] of nodes) {
    if (n <= 0) continue;
    const labels = loc.labelsOf(nodeId);
    if (labels === undefined) continue;
    const v = valueOf(labels, nodeId, label);
    if (v !== undefined) out.set(v, (out.get(v) ?? 0) + n);
  }
  return out;
}

function anyOn(loc: TaskLocations, job: string, label: string, value: string): boolean {
  const nodes = loc.tasksOf(job);
  if (nodes === undefined) return false;
  for (const [nodeId, n] of nodes) {
    if (n <= 0) continue;
    const labels = loc.labelsOf(nodeId);
    if (labels !== undefined && valueOf(labels, nodeId, label) === value) return true;
  }
  return false;
}

/** The first rule a task of `job` breaks on `node`, or undefined when every rule holds. */
export function ruleBreach(rules: PlacementRules, job: string, node: RuleNode, loc: TaskLocations): RuleBreach | undefined {
  const d = rules.distinct;
  if (d !== undefined) {
    const v = valueOf(node.labels, node.id, d.label);
    if (v === undefined) return 'distinct';
    if ((countsByValue(loc, job, d.label).get(v) ?? 0) + 1 > d.limit) return 'distinct';
  }
  const s = rules.spread;
  if (s !== undefined) {
    const v = valueOf(node.labels, node.id, s.label);
    if (v === undefined) return 'spread';
    const counts = countsByValue(loc, job, s.label);
    let min = Infinity;
    for (const dom of loc.domains(s.label)) min = Math.min(min, counts.get(dom) ?? 0);
    if (min === Infinity) min = 0;
    if ((counts.get(v) ?? 0) + 1 - min > s.maxSkew) return 'spread';
  }
  if (rules.affinity !== undefined) {
    for (const r of rules.affinity) {
      const v = valueOf(node.labels, node.id, r.label);
      if (v === undefined || !anyOn(loc, r.job, r.label, v)) return 'affinity';
    }
  }
  if (rules.antiAffinity !== undefined) {
    for (const r of rules.antiAffinity) {
      const v = valueOf(node.labels, node.id, r.label);
      if (v !== undefined && anyOn(loc, r.job, r.label, v)) return 'anti_affinity';
    }
  }
  return undefined;
}

/** True when some rule reads other jobs' tasks (the committer must re-check those across jobs). */
export function spansJobs(rules: PlacementRules, job: string): boolean {
  return (rules.affinity ?? []).some((r) => r.job !== job) || (rules.antiAffinity ?? []).some((r) => r.job !== job);
}
