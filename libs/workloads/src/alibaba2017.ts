/**
 * Alibaba cluster-trace-v2017 (`batch_task.csv` as converted by workloads/convert.py) → tessera.
 *
 * Mapping rules (also in workloads/README.md):
 * - job id = trace job_id; submit = the job's `submit_s` (earliest task create time; 19 jobs are
 *   negative, i.e. created before the trace start, and are kept as they are).
 * - one task group per trace task: name = task_id, count = instance_num.
 * - cpu_millis = the trace's plan_cpu × 10 (plan_cpu is in hundredths of a core), copied as is.
 * - mem_mib = mem_norm × memMibPerNorm (default 1.0 = 256 GiB, see shapes.ts; the same factor is
 *   used for the machines, so fits are exactly the trace's).
 * - duration_s = `csp_mean_inst_runtime_s` (CloudSimPy's mean instance runtime, 31 756 tasks) when
 *   present, else `duration_s` (create → last modify of a Terminated task: task wall time,
 *   queueing included). Neither (Running/Failed tasks without the CloudSimPy join) or a negative
 *   value (one row) → no duration_s, counted in `tasksWithoutDuration`.
 * - rows with null plan_cpu or plan_mem (9 017, mostly Waiting) are skipped as
 *   `no_resource_request`; a job left with no task is skipped as `no_tasks`.
 * - no priorities, tenants or DAG in this trace: priority/tenant/queue keep core's defaults.
 */
import { isSkip, type ConvertOptions, type DraftGroup, type DraftResult, type GroupResult, type GroupSkip } from './draft.ts';
import { FieldError, finite, isObj, optionalFinite, positiveInt, str } from './fields.ts';
import { ALIBABA2017_MEM_MIB_PER_NORM, round3 } from './shapes.ts';
import { SKIP_REASONS } from './types.ts';

export function alibaba2017Job(rec: Record<string, unknown>, options: ConvertOptions): DraftResult {
  const memScale = options.memMibPerNorm ?? ALIBABA2017_MEM_MIB_PER_NORM;
  const id = str(rec, 'job', 'job');
  if (id instanceof FieldError) return { skip: SKIP_REASONS.invalidRecord, message: id.message };
  const submit = finite(rec, 'submit_s', 'job');
  if (submit instanceof FieldError) return { skip: SKIP_REASONS.invalidRecord, message: submit.message };
  const rows = rec.tasks;
  if (!Array.isArray(rows) || rows.length === 0) return { skip: SKIP_REASONS.invalidRecord, message: 'job.tasks must be a non-empty array' };

  const tasks: DraftGroup[] = [];
  const skippedGroups: GroupSkip[] = [];
  let tasksWithoutDuration = 0;
  for (let i = 0; i < rows.length; i++) {
    const g = alibaba2017Group(rows[i], `tasks[${i}]`, memScale);
    if (isSkip(g)) {
      skippedGroups.push({ reason: g.skip, tasks: countOf(rows[i]), message: g.message });
      continue;
    }
    if (g.duration_s === undefined) {
      if (options.requireDuration) {
        skippedGroups.push({ reason: SKIP_REASONS.noDuration, tasks: g.count, message: `tasks[${i}] (${g.name}) has no run time in the trace` });
        continue;
      }
      tasksWithoutDuration += g.count;
    }
    tasks.push(g);
  }
  return {
    submitS: submit,
    spec: { id: (options.idPrefix ?? '') + id, tasks },
    skippedGroups,
    tasksWithoutDuration,
    tasksRightCensored: 0,
  };
}

function alibaba2017Group(row: unknown, where: string, memScale: number): GroupResult {
  if (!isObj(row)) return { skip: SKIP_REASONS.invalidRecord, message: `${where} must be an object` };
  const name = str(row, 'name', where);
  const count = positiveInt(row, 'count', where);
  const cpu = optionalFinite(row, 'cpu_millis', where);
  const mem = optionalFinite(row, 'mem_norm', where);
  const csp = optionalFinite(row, 'csp_mean_inst_runtime_s', where);
  const wall = optionalFinite(row, 'duration_s', where);
  for (const v of [name, count, cpu, mem, csp, wall]) {
    if (v instanceof FieldError) return { skip: SKIP_REASONS.invalidRecord, message: v.message };
  }
  if (cpu === null || mem === null) {
    return { skip: SKIP_REASONS.noResourceRequest, message: `${where} (${name as string}) has no plan_cpu/plan_mem` };
  }
  if ((cpu as number) < 0 || (mem as number) < 0) {
    return { skip: SKIP_REASONS.invalidRecord, message: `${where} (${name as string}) has a negative request` };
  }
  const group: DraftGroup = {
    name: name as string,
    count: count as number,
    resources: { cpu_millis: cpu as number, mem_mib: round3((mem as number) * memScale) },
  };
  // Instance runtime (CloudSimPy) first: it is what an instance holds resources for. The task
  // wall time also counts queueing and the spread between the first and last instance.
  const d = csp !== null && (csp as number) >= 0 ? csp : wall !== null && (wall as number) >= 0 ? wall : null;
  if (d !== null) group.duration_s = d as number;
  return group;
}

function countOf(row: unknown): number {
  return isObj(row) && typeof row.count === 'number' && Number.isInteger(row.count) && row.count > 0 ? row.count : 0;
}
