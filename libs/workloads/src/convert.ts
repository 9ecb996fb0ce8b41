/**
 * One parsed record → one validated {@link TraceJob}, or the reason it was left out. Pure: the
 * file readers (reader.ts) and anything holding records in memory (the CLI, tests) share it.
 */
import { ResourceSpace, validateJobSpec } from '@tessera/core';
import { alibaba2017Job } from './alibaba2017.ts';
import { alibabaGpu2023Job } from './alibabaGpu2023.ts';
import { isSkip, type ConvertOptions, type GroupSkip } from './draft.ts';
import { isObj, type Obj } from './fields.ts';
import { google2011Job } from './google2011.ts';
import { isEnvelope, tesseraJob } from './tesseraFormat.ts';
import { SKIP_REASONS, type SkipReason, type TraceFormat, type TraceJob } from './types.ts';

export type { ConvertOptions, GroupSkip } from './draft.ts';

export interface ConvertContext extends ConvertOptions {
  /** The space specs are validated against (default: core's cpu_millis, mem_mib, gpu, gpu_milli). */
  readonly space?: ResourceSpace;
}

export type ConvertResult =
  | {
      readonly ok: true;
      readonly job: TraceJob;
      readonly skippedGroups: readonly GroupSkip[];
      readonly tasksWithoutDuration: number;
      readonly tasksRightCensored: number;
    }
  | { readonly ok: false; readonly reason: SkipReason; readonly message: string; readonly skippedGroups: readonly GroupSkip[] };

/**
 * Which format a record is in, from the fields only the converter of that trace writes; undefined
 * when none matches.
 */
export function detectFormat(rec: unknown): TraceFormat | undefined {
  if (!isObj(rec)) return undefined;
  if (typeof rec.job === 'string' && Array.isArray(rec.tasks)) {
    const t: unknown = rec.tasks[0];
    if (!isObj(t)) return undefined;
    if ('inst' in t || 'cpu_norm' in t) return 'google2011';
    if ('gpu_milli' in t || 'num_gpu' in t || 'qos' in rec) return 'alibaba_gpu2023';
    if ('plan_cpu' in t || 'mem_norm' in t) return 'alibaba2017';
    return undefined;
  }
  if (isEnvelope(rec) || 'id' in rec || Array.isArray(rec.tasks)) return 'tessera';
  return undefined;
}

export function convertRecord(rec: unknown, options: ConvertContext = {}): ConvertResult {
  const format = options.format ?? detectFormat(rec);
  const detected = options.format === undefined ? format : detectFormat(rec);
  if (format === undefined || !isObj(rec)) {
    return { ok: false, reason: SKIP_REASONS.unknownFormat, message: 'the record matches no known trace format', skippedGroups: [] };
  }
  if (options.format !== undefined && detected !== undefined && detected !== options.format) {
    return { ok: false, reason: SKIP_REASONS.unknownFormat, message: `the record looks like ${detected}, not ${options.format}`, skippedGroups: [] };
  }
  const draft = draftOf(format, rec, options);
  if (isSkip(draft)) {
    return { ok: false, reason: draft.skip, message: draft.message, skippedGroups: draft.skippedGroups ?? [] };
  }
  if (draft.spec.tasks.length === 0 && draft.skippedGroups.length > 0) {
    return { ok: false, reason: SKIP_REASONS.noTasks, message: `every task group of ${String(draft.spec.id)} was skipped`, skippedGroups: draft.skippedGroups };
  }
  const v = validateJobSpec(draft.spec, options.space ?? ResourceSpace.default);
  if (!v.ok) {
    return { ok: false, reason: SKIP_REASONS.invalidSpec, message: `${v.error.path}: ${v.error.message}`, skippedGroups: draft.skippedGroups };
  }
  const job: TraceJob = {
    submitS: draft.submitS,
    job: v.job,
    format,
    ...(draft.taskDurationsS !== undefined ? { taskDurationsS: draft.taskDurationsS } : {}),
    ...(draft.meta !== undefined ? { meta: draft.meta } : {}),
  };
  return {
    ok: true,
    job,
    skippedGroups: draft.skippedGroups,
    tasksWithoutDuration: draft.tasksWithoutDuration,
    tasksRightCensored: draft.tasksRightCensored,
  };
}

function draftOf(format: TraceFormat, rec: Obj, options: ConvertOptions) {
  switch (format) {
    case 'google2011':
      return google2011Job(rec, options);
    case 'alibaba2017':
      return alibaba2017Job(rec, options);
    case 'alibaba_gpu2023':
      return alibabaGpu2023Job(rec, options);
    case 'tessera':
      return tesseraJob(rec, options);
  }
}

/**
 * The run time of task `index` of group `group`: its own when the trace has per-task times
 * (undefined when that task never ran in the window), else the group's `duration_s`.
 */
export function taskDurationS(tj: TraceJob, group: string, index: number): number | undefined {
  const per = tj.taskDurationsS?.[group];
  if (per !== undefined) {
    const d = per[index];
    if (d !== null && d !== undefined) return d;
    return undefined;
  }
  return tj.job.tasks.find((g) => g.name === group)?.duration_s;
}
