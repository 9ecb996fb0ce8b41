/**
 * One job's way through a scheduler replica, as an explicit state machine:
 *
 *   ready ──propose──▶ in_flight ──all answers──▶ placed | unschedulable
 *   ▲  ▲                   │ refused or no room     │ clean round, tasks left (maxTasksPerRound)
 *   │  └── backoff ◀───────┘                        │
 *   │   (until retryAt)                             │
 *   └───────────────────────────────────────────────┘
 *   (propose goes straight to backoff or unschedulable when nothing could be proposed)
 *
 * The replica (replica.ts) drives it; this file holds the record and the reason constants.
 */
import type { TaskRequest, Transaction } from '@tessera/core';
import type { PlacementJob } from '@tessera/policy';

export type JobState = 'ready' | 'in_flight' | 'backoff' | 'placed' | 'unschedulable';
export const JOB_STATES: readonly JobState[] = Object.freeze(['ready', 'in_flight', 'backoff', 'placed', 'unschedulable'] as const);

/** Why a job was given up, added to its reasons next to the filter and conflict reasons. */
export const GiveUpReason = {
  /** The committer refused a task's claim more than `maxConflictRetries` times, over at least `conflictWindowMs`. */
  conflict_retries_exhausted: 'conflict retries exhausted',
  /** Some tasks found no room for `maxWaitMs` after submission. */
  no_room_timeout: 'no room before the wait limit',
  /** A gang job with a task no node can ever take: the whole gang cannot run. */
  gang_unplaceable: 'gang has a task no node can take',
} as const;
export type GiveUpReason = (typeof GiveUpReason)[keyof typeof GiveUpReason];

/** One proposal sent and not answered yet. `tasks[i]` is the task of `txn.claims[i]`. */
export interface InFlightTxn {
  readonly txn: Transaction;
  readonly tasks: readonly TaskRequest[];
  readonly proposedAt: number;
}

/** The replica's record of one job. Read it freely; change it only through the replica. */
export interface JobRun {
  readonly jobId: string;
  /** What placement rules see of the job (queue, priority, preemptible). */
  readonly job: PlacementJob;
  readonly gang: boolean;
  readonly submittedAt: number;
  readonly taskCount: number;
  state: JobState;
  /** Proposal rounds started so far; the attempt number in idempotency keys (first round = 1). */
  attempt: number;
  /** Rounds that ended with at least one claim refused by the committer. */
  conflictRounds: number;
  /** Consecutive rounds that ended in a conflict or found no room (the backoff exponent). */
  failedRounds: number;
  /** Tasks still to place in the next round (neither committed nor given up). */
  pending: TaskRequest[];
  /** Committed tasks: task id → node id. */
  readonly placed: Map<string, string>;
  /** Tasks given up (never fit, or limits reached). */
  readonly failed: TaskRequest[];
  /** Aggregated reasons: filter reasons of failed placements, conflict reasons, give-up reasons. */
  readonly reasons: Record<string, number>;
  /** When a job in `backoff` may propose again (ms). */
  retryAt: number;
  /** When the job reached `placed` or `unschedulable` (ms). */
  finishedAt: number | undefined;
  readonly inFlight: Map<string, InFlightTxn>;
  /** How often the committer refused each task it refused at least once. */
  refusals: Map<string, number> | undefined;
  /** When (ms) the committer first refused each task it refused (the start of its conflict window). */
  firstRefusedAt: Map<string, number> | undefined;
  /** The most refusals of any task refused in the current round (0: none); sets the conflict backoff. */
  roundRefusals: number;
  /**
   * Partitions the committer's refusals showed stale, to fetch before the next round (see
   * SchedulerReplica.takeRefresh); `true` when a refused node was unknown to the cell, so only a
   * snapshot (not a delta) can drop it from the view.
   */
  staleParts: Map<number, boolean> | undefined;
  /** Claims proposed for tasks that had been refused before: the retries. */
  retriedClaims: number;
  /** Current round: some claim was refused / some task found no room now. */
  roundConflict: boolean;
  roundNoRoom: boolean;
  /** Tasks refused in the current round, re-queued when its last answer arrives. */
  roundRejected: TaskRequest[];
  /** Current round: some claim was refused for quota (the job waits for its queue, spending no retry budget). */
  roundQuota: boolean;
}

export function newJobRun(jobId: string, gang: boolean, tasks: TaskRequest[], now: number, job: PlacementJob = { id: jobId, gang }): JobRun {
  return {
    jobId,
    job,
    gang,
    submittedAt: now,
    taskCount: tasks.length,
    state: 'ready',
    attempt: 0,
    conflictRounds: 0,
    failedRounds: 0,
    pending: tasks,
    placed: new Map(),
    failed: [],
    reasons: {},
    retryAt: now,
    finishedAt: undefined,
    inFlight: new Map(),
    refusals: undefined,
    firstRefusedAt: undefined,
    roundRefusals: 0,
    staleParts: undefined,
    retriedClaims: 0,
    roundConflict: false,
    roundNoRoom: false,
    roundRejected: [],
    roundQuota: false,
  };
}

export function isFinished(run: JobRun): boolean {
  return run.state === 'placed' || run.state === 'unschedulable';
}

export function addReasons(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const k in from) into[k] = (into[k] ?? 0) + from[k];
}

export function addReason(into: Record<string, number>, reason: string, n = 1): void {
  into[reason] = (into[reason] ?? 0) + n;
}

/** A job was driven through an illegal transition (a programming fault in the caller). */
export class IllegalJobTransitionError extends Error {
  override readonly name = 'IllegalJobTransitionError';
  constructor(
    readonly jobId: string,
    readonly from: JobState,
    readonly action: string,
  ) {
    super(`job ${jobId}: cannot ${action} in state ${from}`);
  }
}
