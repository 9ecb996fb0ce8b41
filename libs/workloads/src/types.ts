/**
 * The shapes every reader produces. A trace row becomes a {@link TraceJob}: a core `JobSpec` plus
 * its submit time and the few source facts a `JobSpec` has no field for.
 */
import type { JobSpec } from '@tessera/core';

/** The trace formats converted by `workloads/convert.py`, plus tessera's own job specs (DESIGN §7). */
export type TraceFormat = 'google2011' | 'alibaba2017' | 'alibaba_gpu2023' | 'tessera';
export const TRACE_FORMATS: readonly TraceFormat[] = ['google2011', 'alibaba2017', 'alibaba_gpu2023', 'tessera'];

/** Machine files: the two traces that publish machines, and tessera's own `{id, labels, capacity}`. */
export type MachineFormat = 'alibaba2017' | 'alibaba_gpu2023' | 'tessera';
export const MACHINE_FORMATS: readonly MachineFormat[] = ['alibaba2017', 'alibaba_gpu2023', 'tessera'];

export type MetaValue = string | number | boolean | null;

export interface TraceJob {
  /** Seconds since the trace start (may be negative: alibaba2017 has 19 jobs created before it). */
  readonly submitS: number;
  /** Valid against the reader's resource space (checked with core `validateJobSpec`). */
  readonly job: JobSpec;
  readonly format: TraceFormat;
  /**
   * Per-instance run times where the trace has them and they differ inside a group (google2011):
   * group name → seconds for each task index 0..count-1, in `expandTasks` order; `null` = unknown
   * (the task never ran inside the trace window). The group's `duration_s` is their mean.
   */
  readonly taskDurationsS?: Readonly<Record<string, readonly (number | null)[]>>;
  /** Source fields a JobSpec has no place for (QoS class, scheduling class, …), for analysis only. */
  readonly meta?: Readonly<Record<string, MetaValue>>;
}

/** A machine as the readers give it; `nodeRegistration` turns it into core's vector form. */
export interface MachineRecord {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly capacity: Readonly<Record<string, number>>;
}

/** Why a job, a task group or a machine was left out. Values, never thrown. */
export const SKIP_REASONS = {
  /** The line is not JSON (or the document not JSON/YAML). */
  unparsable: 'unparsable',
  /** Parsed, but matches no known format (or not the one forced by `format`). */
  unknownFormat: 'unknown_format',
  /** A field has the wrong type or an impossible value (negative count, arrays of the wrong length…). */
  invalidRecord: 'invalid_record',
  /** alibaba2017 rows whose plan_cpu/plan_mem are empty (9 017 tasks, mostly Waiting). */
  noResourceRequest: 'no_resource_request',
  /** Only with `requireDuration`: the trace has no run time for the task. */
  noDuration: 'no_duration',
  /** Every task group of the job was skipped. */
  noTasks: 'no_tasks',
  /** google2011 jobs already running at t=0 when `includeInitial` is false. */
  initialExcluded: 'initial_excluded',
  /** The converted spec failed core `validateJobSpec` (the message carries core's path and reason). */
  invalidSpec: 'invalid_spec',
  /** Streaming (`order: 'strict'`): a record earlier than one already yielded. */
  outOfOrder: 'out_of_order',
} as const;
export type SkipReason = (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS];

/** One skipped item, kept for the first few so a caller can show why. */
export interface SkipExample {
  /** 1-based line number (JSONL) or element number (JSON/YAML documents). */
  readonly line: number;
  readonly reason: SkipReason;
  readonly message: string;
}

export interface TraceStats {
  /** Non-empty lines (JSONL) or elements (documents) read. */
  records: number;
  /** Jobs yielded. */
  jobs: number;
  /** Task groups and task instances in the yielded jobs. */
  taskGroups: number;
  tasks: number;
  /** Yielded task instances without a known run time (no `duration_s`, or a `null` per-instance one). */
  tasksWithoutDuration: number;
  /** google2011 tasks still running at the window end: their run time is a lower bound. */
  tasksRightCensored: number;
  /** Whole records left out, by reason. */
  skippedJobs: Partial<Record<SkipReason, number>>;
  /** Task groups (and their instances) left out of jobs that were still yielded or skipped, by reason. */
  skippedTaskGroups: Partial<Record<SkipReason, number>>;
  skippedTasks: number;
  /** Jobs yielded per format. */
  formats: Partial<Record<TraceFormat, number>>;
  /** The first few skips (see `maxExamples`). */
  examples: SkipExample[];
}

export function emptyTraceStats(): TraceStats {
  return {
    records: 0, jobs: 0, taskGroups: 0, tasks: 0, tasksWithoutDuration: 0, tasksRightCensored: 0,
    skippedJobs: {}, skippedTaskGroups: {}, skippedTasks: 0, formats: {}, examples: [],
  };
}

export interface MachineStats {
  records: number;
  machines: number;
  skipped: Partial<Record<SkipReason, number>>;
  examples: SkipExample[];
}

/** The seeded randomness a sampler needs; `@tessera/policy`'s `Rng` fits. Never Math.random. */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
}
