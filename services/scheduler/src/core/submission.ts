/**
 * From a job submission off the stream to the tasks this replica must place: validation of the
 * spec, the optional remaining-task list (cell-state re-publishes a job after a node was lost,
 * listing only the tasks to place again), and the limits a proposal must respect on the wire.
 */
import { expandTasks, validateJobSpec, type JobSpec, type ResourceSpace, type TaskRequest } from '@tessera/core';

/** The protocol's limit on claims in one transaction: a larger gang can never be proposed whole. */
export const MAX_CLAIMS_PER_TXN = 20_000;

export const SubmissionReason = {
  gang_too_large: 'gang larger than one transaction',
} as const;

export interface SubmissionInput {
  readonly job: Readonly<Record<string, unknown>>;
  readonly submittedAt: number;
  /** Only these task ids (`job/group/index`) are to be placed. */
  readonly tasks?: readonly string[];
  /** How many times cell-state handed the job back (absent on a first submission). */
  readonly attempt?: number;
  /** A restart's backoff: not to be placed before this time (ms since the epoch). */
  readonly notBefore?: number;
}

/** How long (ms) a submission must still wait out its restart backoff at `now`; 0 when it may be placed. */
export function backoffLeftMs(sub: SubmissionInput, now: number): number {
  return sub.notBefore !== undefined && sub.notBefore > now ? Math.ceil(sub.notBefore - now) : 0;
}

export type PreparedJob =
  /** The spec is invalid: report `failed` (when it has a usable id) and drop it. */
  | { readonly kind: 'invalid'; readonly jobId: string | undefined; readonly reason: string }
  /** Can never be placed as submitted: report `unschedulable`, no placement attempt. */
  | { readonly kind: 'unschedulable'; readonly job: JobSpec; readonly reason: string }
  /** Nothing left to place (every listed task is unknown to the spec). */
  | { readonly kind: 'empty'; readonly job: JobSpec }
  | { readonly kind: 'ready'; readonly job: JobSpec; readonly tasks: TaskRequest[]; readonly partial: boolean };

const JOB_ID = /^[A-Za-z0-9_.:@-]{1,200}$/;

function usableId(job: Readonly<Record<string, unknown>>): string | undefined {
  const id = job.id;
  return typeof id === 'string' && JOB_ID.test(id) ? id : undefined;
}

export function prepareJob(sub: SubmissionInput, space: ResourceSpace): PreparedJob {
  const v = validateJobSpec(sub.job, space);
  if (!v.ok) return { kind: 'invalid', jobId: usableId(sub.job), reason: `invalid job spec at ${v.error.path}: ${v.error.message}` };
  const job = v.job;
  let tasks = expandTasks(job, space);
  let partial = false;
  if (sub.tasks !== undefined) {
    const wanted = new Set(sub.tasks);
    tasks = tasks.filter((t) => wanted.has(t.id));
    partial = true;
    if (tasks.length === 0) return { kind: 'empty', job };
  }
  if (job.gang && tasks.length > MAX_CLAIMS_PER_TXN) {
    return { kind: 'unschedulable', job, reason: `${SubmissionReason.gang_too_large} (${tasks.length} tasks, at most ${MAX_CLAIMS_PER_TXN})` };
  }
  return { kind: 'ready', job, tasks, partial };
}

/**
 * The job id the replica builds idempotency keys (and rng seeds) from. Keys are
 * `scheduler:job:attempt:chunk`, so a job handed back by cell-state, or redelivered to a replica
 * restarted under the same `--id`, would reuse the keys of its first placement and get that
 * placement's outcome replayed for different claims (tasks never committed would count as
 * placed). Every delivery after the first therefore gets its own key space. Claims keep the real
 * job id (it comes from the tasks); `~` cannot occur in a job id.
 */
export function runKeyId(jobId: string, handBack: number | undefined, deliveryCount: number): string {
  const h = handBack ?? 0;
  return h === 0 && deliveryCount <= 1 ? jobId : `${jobId}~${h}.${deliveryCount}`;
}
