/**
 * The restart policy of a job (DESIGN §11, `restart: {attempts, backoff_s}` in the job spec): how
 * often a task whose process failed or whose node was lost is handed back for placement again,
 * and how long it waits first. Like Nomad's restart/reschedule blocks and Kubernetes' backoffLimit.
 *
 * Defaults (documented, `DEFAULT_RESTART`): 3 restarts per task, waiting 10 s before the first
 * and doubling at each further restart of the same task, up to `MAX_RESTART_BACKOFF_S` (5 min).
 * `attempts: 0` disables restarts (the first failure fails the task, and so the job).
 */
import { z } from 'zod';

export const MAX_RESTART_ATTEMPTS = 1000;
export const MAX_RESTART_BACKOFF_S = 300;

export const restartSchema = z
  .object({
    attempts: z.number().int().min(0).max(MAX_RESTART_ATTEMPTS).optional(),
    backoff_s: z.number().finite().min(0).max(86_400).optional(),
  })
  .strict();

export interface RestartPolicy {
  /** Restarts allowed per task; the next failure after that fails the task. */
  readonly attempts: number;
  /** Wait before the first restart (s); doubles at each further restart of the task. */
  readonly backoffS: number;
}

export const DEFAULT_RESTART: RestartPolicy = Object.freeze({ attempts: 3, backoffS: 10 });

/** The policy of a validated spec, defaults filled in. */
export function restartPolicyOf(spec: { readonly restart?: z.output<typeof restartSchema> } | undefined): RestartPolicy {
  const r = spec?.restart;
  return { attempts: r?.attempts ?? DEFAULT_RESTART.attempts, backoffS: r?.backoff_s ?? DEFAULT_RESTART.backoffS };
}

/** Wait (ms) before restart number `n` (1 = the first) of a task. */
export function restartBackoffMs(policy: RestartPolicy, n: number): number {
  if (policy.backoffS === 0) return 0;
  // Doubling stops at 5 min (or at backoff_s itself when that is longer).
  return Math.min(Math.max(MAX_RESTART_BACKOFF_S, policy.backoffS), policy.backoffS * 2 ** Math.max(0, n - 1)) * 1000;
}
