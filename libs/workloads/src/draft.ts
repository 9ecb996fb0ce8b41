/**
 * What each format's converter hands back before core validation: the spec as plain data, its
 * submit time, and what was dropped on the way.
 */
import type { TaskGroupSpec } from '@tessera/core';
import type { MetaValue, SkipReason, TraceFormat } from './types.ts';
import type { ScaleOptions } from './shapes.ts';

export interface ConvertOptions extends ScaleOptions {
  /** Force one format instead of detecting it per record. */
  readonly format?: TraceFormat;
  /** google2011: keep the jobs already running at t=0 (submitted at 0). Default true. */
  readonly includeInitial?: boolean;
  /** Leave out tasks without a known run time (counted as `no_duration`). Default false. */
  readonly requireDuration?: boolean;
  /** Prepended to every job id (e.g. `g11-`), to mix traces without id clashes. Default none. */
  readonly idPrefix?: string;
}

/** A task group left out of a job: why, and how many instances it had. */
export interface GroupSkip {
  readonly reason: SkipReason;
  readonly tasks: number;
  readonly message: string;
}

/** A group as built by a converter; `duration_s` left out when unknown. */
export type DraftGroup = Omit<TaskGroupSpec, 'duration_s'> & { duration_s?: number };

export interface Draft {
  readonly submitS: number;
  /** The spec as plain data, checked by core `validateJobSpec` afterwards. */
  readonly spec: { readonly id: unknown; readonly tasks: readonly unknown[]; readonly [field: string]: unknown };
  readonly taskDurationsS?: Record<string, (number | null)[]>;
  readonly meta?: Record<string, MetaValue>;
  readonly skippedGroups: GroupSkip[];
  readonly tasksWithoutDuration: number;
  readonly tasksRightCensored: number;
}

/** The whole record was left out. */
export interface DraftSkip {
  readonly skip: SkipReason;
  readonly message: string;
  readonly skippedGroups?: GroupSkip[];
}

export type DraftResult = Draft | DraftSkip;

export type GroupResult = DraftGroup | DraftSkip;

export function isSkip<T extends object>(r: T | DraftSkip): r is DraftSkip {
  return 'skip' in r;
}
