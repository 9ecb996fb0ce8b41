/**
 * The one seam every dispatcher draws its next job from (kube-scheduler's QueueSort, YARN's
 * queue ordering): the simulator's dispatch and the scheduler service push jobs in and ask for
 * the next one given the committer's queue usage. Implementations: FIFO (fifo-queue.ts) and DRF
 * (drf-queue.ts); a new ordering is one new file implementing {@link JobQueue}.
 */
import type { QueueTree, ResourceVector } from '@tessera/core';

/** The orderings a dispatcher can be configured with (`--queue-order`). */
export type QueueOrder = 'fifo' | 'drf';
export const QUEUE_ORDERS: readonly QueueOrder[] = Object.freeze(['fifo', 'drf'] as const);

/** What a queue ordering needs to know of a job. */
export interface QueuedJob {
  readonly id: string;
  /** Leaf queue path (`default` when the job names none). */
  readonly queue: string;
  readonly priority: number;
  /** ms; earlier first among equals. */
  readonly submittedAt: number;
  /**
   * What must still fit under the queue's max (on every queue of its path) for the job to make
   * progress: its smallest task, or a gang's total. Absent: the job is never held back by quota
   * (e.g. preemptible jobs, which do not count against quota).
   */
  readonly need?: ResourceVector;
}

/** The committer's numbers, as shipped to every replica (plus, optionally, the replica's own in-flight work). */
export interface QueueUsage {
  /** Cell capacity over ready nodes, per resource. */
  readonly capacity: ResourceVector;
  /** Non-preemptible allocation per queue path, inner queues included (as CellState.queueAllocated). */
  readonly allocated: ReadonlyMap<string, ResourceVector>;
  /** The queue tree in force (weights, max); absent: no queue file, nothing is held back. */
  readonly tree?: QueueTree;
}

export interface JobQueue<J extends QueuedJob = QueuedJob> {
  /** The ordering's name (`fifo`, `drf`). */
  readonly kind: string;
  push(job: J): void;
  /**
   * Takes the next job to place, or undefined when none may go now. Jobs whose queue is at its
   * max (per `usage`) are skipped, not waited on: other queues' jobs still come out (no
   * head-of-line blocking across queues). Without `usage`, quota holds nothing back.
   */
  next(usage?: QueueUsage): J | undefined;
  /** Removes a job by id (e.g. its message was redelivered elsewhere); true when it was queued. */
  remove(id: string): boolean;
  /** Jobs queued. */
  readonly size: number;
  /** Jobs queued per leaf queue path. */
  waiting(): Map<string, J[]>;
}
