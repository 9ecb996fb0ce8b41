/**
 * Jobs as tenants submit them (DESIGN §7), their validation, and their expansion into tasks.
 * Validation returns the path of the first bad field; it never throws on user input.
 */
import { z } from 'zod';
import { CONSTRAINT_OPS, type Constraint } from './constraints.ts';
import { gpuDemandProblem, gpuDims, withWholeMilli } from './gpu.ts';
import { fastJobSpec } from './job-fast.ts';
import type { PlacementRules } from './placement-rules.ts';
import { isResourceError, type ResourceSpace, type ResourceVector } from './resources.ts';
import { restartSchema } from './restart.ts';

export const MAX_TASKS_PER_JOB = 200_000;
const ID = /^[A-Za-z0-9_.:@-]{1,200}$/;

const constraintSchema = z
  .object({
    label: z.string().min(1).max(200),
    op: z.enum(CONSTRAINT_OPS as [string, ...string[]]),
    values: z.array(z.string().max(200)).max(1000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.op === 'in' || c.op === 'not_in') && (c.values === undefined || c.values.length === 0)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `op "${c.op}" needs a non-empty values list` });
    }
  });

const preferenceSchema = z
  .object({ label: z.string().min(1).max(200), op: z.enum(CONSTRAINT_OPS as [string, ...string[]]), values: z.array(z.string()).max(1000).optional(), weight: z.number().finite().min(0).max(100).optional() })
  .strict();

const LABEL = z.string().min(1).max(200);
const jobRuleSchema = z.object({ job: z.string().regex(ID, 'must be 1-200 characters of A-Z a-z 0-9 _ . : @ -'), label: LABEL }).strict();

const taskGroupSchema = z
  .object({
    name: z.string().regex(ID, 'must be 1-200 characters of A-Z a-z 0-9 _ . : @ -'),
    count: z.number().int().min(1).max(MAX_TASKS_PER_JOB),
    resources: z.record(z.string(), z.number()),
    duration_s: z.number().finite().min(0).max(365 * 86400).optional(),
    command: z.array(z.string().max(10_000)).min(1).max(1000).optional(),
    constraints: z.array(constraintSchema).max(100).optional(),
    preferences: z.array(preferenceSchema).max(100).optional(),
    /** DESIGN §12 placement rules of the group's tasks (see placement-rules.ts). */
    spread: z.object({ label: LABEL, max_skew: z.number().int().min(1).max(1_000_000) }).strict().optional(),
    distinct: z.object({ label: LABEL, limit: z.number().int().min(1).max(1_000_000).default(1) }).strict().optional(),
    affinity: z.array(jobRuleSchema).min(1).max(20).optional(),
    anti_affinity: z.array(jobRuleSchema).min(1).max(20).optional(),
  })
  .strict();

export const jobSpecSchema = z
  .object({
    id: z.string().regex(ID, 'must be 1-200 characters of A-Z a-z 0-9 _ . : @ -'),
    tenant: z.string().min(1).max(200).default('default'),
    queue: z.string().min(1).max(200).default('default'),
    priority: z.number().int().min(0).max(1_000_000).default(100),
    gang: z.boolean().default(false),
    /** DESIGN §10: does not count against quota, fills idle capacity, first to be preempted. */
    preemptible: z.boolean().optional(),
    /** Restarts of failed tasks (see restart.ts for the defaults when absent). */
    restart: restartSchema.optional(),
    tasks: z.array(taskGroupSchema).min(1, 'a job needs at least one task group').max(1000),
  })
  .strict();

export type JobSpec = z.output<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type TaskGroupSpec = JobSpec['tasks'][number];
export type Preference = NonNullable<TaskGroupSpec['preferences']>[number];

export interface SpecError {
  /** Dotted path of the bad field, e.g. `tasks[0].resources.cpu_millis`. */
  readonly path: string;
  readonly message: string;
}

export type SpecResult = { ok: true; job: JobSpec } | { ok: false; error: SpecError };

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '(root)';
}

/** Validates a job spec (shape, ids, resources against the space, totals, duplicate groups). */
export function validateJobSpec(input: unknown, space: ResourceSpace): SpecResult {
  // The common shape is accepted without zod (job-fast.ts); zod decides everything else.
  const fast = fastJobSpec(input);
  const parsed = fast !== undefined ? ({ success: true, data: fast } as const) : jobSpecSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: { path: formatPath(issue.path), message: issue.message } };
  }
  const job = parsed.data;
  const names = new Set<string>();
  let total = 0;
  for (let g = 0; g < job.tasks.length; g++) {
    const group = job.tasks[g];
    if (names.has(group.name)) {
      return { ok: false, error: { path: `tasks[${g}].name`, message: `duplicate task group name "${group.name}"` } };
    }
    names.add(group.name);
    const v = space.parse(group.resources, `tasks[${g}].resources`);
    if (isResourceError(v)) return { ok: false, error: v };
    const gpu = gpuDemandProblem(v, gpuDims(space));
    if (gpu !== undefined) return { ok: false, error: { path: `tasks[${g}].resources.${gpu.field}`, message: gpu.message } };
    total += group.count;
  }
  if (total > MAX_TASKS_PER_JOB) {
    return { ok: false, error: { path: 'tasks', message: `a job may have at most ${MAX_TASKS_PER_JOB} tasks, this one has ${total}` } };
  }
  return { ok: true, job };
}

/** One task instance to place: what placement and claims need, resources as a vector. */
export interface TaskRequest {
  readonly id: string;
  readonly jobId: string;
  readonly group: string;
  readonly index: number;
  readonly demand: ResourceVector;
  readonly constraints?: readonly Constraint[];
  readonly preferences?: readonly Preference[];
  /** The group's spread / distinct / affinity / anti_affinity (one object per group). */
  readonly rules?: PlacementRules;
  readonly priority: number;
  readonly durationS?: number;
  readonly command?: readonly string[];
}

export function taskId(jobId: string, group: string, index: number): string {
  return `${jobId}/${group}/${index}`;
}

/** Expands a validated job into its task instances; tasks of one group share their demand vector. */
export function expandTasks(job: JobSpec, space: ResourceSpace): TaskRequest[] {
  const out: TaskRequest[] = [];
  for (const group of job.tasks) {
    // A whole-GPU demand also books its devices' milli (gpu: 2 → gpu_milli: 2000), see gpu.ts.
    const demand = withWholeMilli(space.vector(group.resources), gpuDims(space));
    const rules = rulesOf(group);
    for (let i = 0; i < group.count; i++) {
      out.push({
        id: taskId(job.id, group.name, i),
        jobId: job.id,
        group: group.name,
        index: i,
        demand,
        constraints: group.constraints as readonly Constraint[] | undefined,
        preferences: group.preferences,
        ...(rules === undefined ? {} : { rules }),
        priority: job.priority,
        durationS: group.duration_s,
        command: group.command,
      });
    }
  }
  return out;
}

/** A group's placement rules in core's shape (undefined when it has none). */
export function rulesOf(group: TaskGroupSpec): PlacementRules | undefined {
  if (group.spread === undefined && group.distinct === undefined && group.affinity === undefined && group.anti_affinity === undefined) return undefined;
  return {
    ...(group.spread === undefined ? {} : { spread: { label: group.spread.label, maxSkew: group.spread.max_skew } }),
    ...(group.distinct === undefined ? {} : { distinct: { label: group.distinct.label, limit: group.distinct.limit } }),
    ...(group.affinity === undefined ? {} : { affinity: group.affinity }),
    ...(group.anti_affinity === undefined ? {} : { antiAffinity: group.anti_affinity }),
  };
}

export function taskCount(job: JobSpec): number {
  let n = 0;
  for (const g of job.tasks) n += g.count;
  return n;
}
