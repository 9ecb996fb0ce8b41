/**
 * A task running on a node as a scheduler sees it when it may preempt (DESIGN §11): what victim
 * selection needs. Cell-state adds these to the node states of a sync when the scheduler asks
 * (`tasks: true`), so schedulers that never preempt never pay for them.
 */
import type { ResourceVector } from './resources.ts';

export interface RunningTask {
  readonly taskId: string;
  readonly jobId: string;
  readonly demand: ResourceVector;
  readonly priority: number;
  /** The job's leaf queue path (`default` when none). */
  readonly queue: string;
  readonly preemptible: boolean;
  /** ms (the committer's clock) when its claim was committed; the min-runtime rule counts from here. */
  readonly startedAt: number;
  /** A task of a gang job: never a victim (evicting it would leave the rest of the gang running without it). */
  readonly gang?: boolean;
}
