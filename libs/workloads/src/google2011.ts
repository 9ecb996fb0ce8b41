/**
 * Google clusterdata-2011-2 (task_events, as grouped by workloads/convert.py) → tessera.
 *
 * Mapping rules (also in workloads/README.md):
 * - job id = trace job ID; submit = `submit_s` (earliest task SUBMIT; 0 for `initial` jobs, which
 *   were already running at t=0 and are kept unless `includeInitial: false`).
 * - tenant = `user` (the hashed user name); priority = the job's `priority` (0–11, Google's
 *   scale, higher = more important), or the highest group priority for the 2 jobs whose tasks
 *   differ (core has one priority per job).
 * - one task group per trace group `g0, g1, …` (tasks with identical priority, class and request),
 *   count = instances.
 * - cpu_millis = cpu_norm × 32 000 and mem_mib = mem_norm × 131 072: the largest Google machine
 *   (= 1.0) is taken as 32 cores / 128 GiB (shapes.ts; a convention, the trace has no absolute
 *   scale). disk_norm has no tessera resource and is dropped.
 * - per-task run time: `run_s` (seconds in RUNNING inside the window, over all attempts: the time
 *   the task really held resources) when > 0; else `end_s − start_s` when both are known; else
 *   unknown (the task never ran inside the window). Tasks with no `end_s` were still running at the
 *   window end: their `run_s` stops there, a lower bound (counted in `tasksRightCensored`).
 *   The group's `duration_s` is the mean of its known run times (so count × duration_s is the
 *   group's real total work), and `TraceJob.taskDurationsS[group]` has the per-task values.
 * - `diff_machine` (Borg's "different machines" constraint) has no equivalent in core's label
 *   constraints; it is dropped, and the number of groups that had it is in `meta.diff_machine_groups`.
 * - `sched_class` (latency sensitivity 0–3) and `initial` go to `meta`.
 */
import { isSkip, type ConvertOptions, type DraftGroup, type DraftResult, type DraftSkip, type GroupSkip } from './draft.ts';
import { FieldError, finite, isObj, nonNegative, numberOrNullArray, optionalFinite, positiveInt, str, type Obj } from './fields.ts';
import { GOOGLE2011_CPU_MILLIS_PER_NORM, GOOGLE2011_MEM_MIB_PER_NORM, round3 } from './shapes.ts';
import { SKIP_REASONS, type MetaValue } from './types.ts';

/** The run time of one task instance, by the rule above; null when unknown. */
export function google2011TaskRunS(runS: number | null, startS: number | null, endS: number | null): number | null {
  if (runS !== null && runS > 0) return runS;
  if (startS !== null && endS !== null && endS >= startS) return round6(endS - startS);
  return null;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

interface GoogleGroup {
  readonly group: DraftGroup;
  readonly durations: (number | null)[];
  readonly priority: number | null;
  readonly diffMachine: boolean;
  readonly censored: number;
}

export function google2011Job(rec: Obj, options: ConvertOptions): DraftResult {
  const cpuScale = options.googleCpuMillisPerNorm ?? GOOGLE2011_CPU_MILLIS_PER_NORM;
  const memScale = options.googleMemMibPerNorm ?? GOOGLE2011_MEM_MIB_PER_NORM;
  const id = str(rec, 'job', 'job');
  if (id instanceof FieldError) return { skip: SKIP_REASONS.invalidRecord, message: id.message };
  const submit = finite(rec, 'submit_s', 'job');
  if (submit instanceof FieldError) return { skip: SKIP_REASONS.invalidRecord, message: submit.message };
  const initial = rec.initial === true;
  if (initial && options.includeInitial === false) {
    return { skip: SKIP_REASONS.initialExcluded, message: `job ${id} was already running at t=0` };
  }
  const jobPriority = optionalFinite(rec, 'priority', 'job');
  if (jobPriority instanceof FieldError) return { skip: SKIP_REASONS.invalidRecord, message: jobPriority.message };
  const rows = rec.tasks;
  if (!Array.isArray(rows) || rows.length === 0) return { skip: SKIP_REASONS.invalidRecord, message: 'job.tasks must be a non-empty array' };

  const tasks: DraftGroup[] = [];
  const taskDurationsS: Record<string, (number | null)[]> = {};
  const skippedGroups: GroupSkip[] = [];
  let withoutDuration = 0;
  let censored = 0;
  let diffMachineGroups = 0;
  let maxGroupPriority: number | null = null;
  for (let i = 0; i < rows.length; i++) {
    const where = `tasks[${i}]`;
    const g = googleGroup(rows[i], where, cpuScale, memScale);
    if (isSkip(g)) {
      const n = isObj(rows[i]) && typeof rows[i].count === 'number' ? Math.max(0, Math.trunc(rows[i].count as number)) : 0;
      skippedGroups.push({ reason: g.skip, tasks: n, message: g.message });
      continue;
    }
    let { group, durations } = g;
    if (options.requireDuration && durations.some((d) => d === null)) {
      const known = durations.filter((d): d is number => d !== null);
      skippedGroups.push({ reason: SKIP_REASONS.noDuration, tasks: durations.length - known.length, message: `${where} (${group.name}): ${durations.length - known.length} tasks never ran in the window` });
      if (known.length === 0) continue;
      durations = known;
      group = { ...group, count: known.length };
    }
    const known = durations.filter((d): d is number => d !== null);
    withoutDuration += durations.length - known.length;
    if (known.length > 0) group.duration_s = round6(known.reduce((a, b) => a + b, 0) / known.length);
    censored += g.censored;
    if (g.diffMachine) diffMachineGroups++;
    if (g.priority !== null && (maxGroupPriority === null || g.priority > maxGroupPriority)) maxGroupPriority = g.priority;
    tasks.push(group);
    taskDurationsS[group.name] = durations;
  }
  const user = typeof rec.user === 'string' && rec.user.length > 0 ? rec.user : undefined;
  const priority = jobPriority ?? maxGroupPriority;
  const meta: Record<string, MetaValue> = { initial, diff_machine_groups: diffMachineGroups };
  if (typeof rec.sched_class === 'number') meta.sched_class = rec.sched_class;
  return {
    submitS: submit,
    spec: {
      id: (options.idPrefix ?? '') + id,
      ...(user !== undefined ? { tenant: user } : {}),
      ...(priority !== null ? { priority } : {}),
      tasks,
    },
    taskDurationsS,
    meta,
    skippedGroups,
    tasksWithoutDuration: withoutDuration,
    tasksRightCensored: censored,
  };
}

function googleGroup(row: unknown, where: string, cpuScale: number, memScale: number): GoogleGroup | DraftSkip {
  const bad = (message: string): DraftSkip => ({ skip: SKIP_REASONS.invalidRecord, message });
  if (!isObj(row)) return bad(`${where} must be an object`);
  const name = str(row, 'name', where);
  if (name instanceof FieldError) return bad(name.message);
  const count = positiveInt(row, 'count', where);
  if (count instanceof FieldError) return bad(count.message);
  const cpu = nonNegative(row, 'cpu_norm', where);
  if (cpu instanceof FieldError) return bad(cpu.message);
  const mem = nonNegative(row, 'mem_norm', where);
  if (mem instanceof FieldError) return bad(mem.message);
  const priority = optionalFinite(row, 'priority', where);
  if (priority instanceof FieldError) return bad(priority.message);
  const inst = row.inst;
  if (!isObj(inst)) return bad(`${where}.inst must be an object of per-task arrays`);
  const run = numberOrNullArray(inst, 'run_s', count, `${where}.inst`);
  if (run instanceof FieldError) return bad(run.message);
  const start = numberOrNullArray(inst, 'start_s', count, `${where}.inst`);
  if (start instanceof FieldError) return bad(start.message);
  const end = numberOrNullArray(inst, 'end_s', count, `${where}.inst`);
  if (end instanceof FieldError) return bad(end.message);
  const durations: (number | null)[] = new Array(count);
  let censored = 0;
  for (let k = 0; k < count; k++) {
    durations[k] = google2011TaskRunS(run[k], start[k], end[k]);
    if (end[k] === null && durations[k] !== null) censored++;
  }
  return {
    group: {
      name,
      count,
      resources: { cpu_millis: round3(cpu * cpuScale), mem_mib: round3(mem * memScale) },
    },
    durations,
    priority,
    diffMachine: row.diff_machine === 1 || row.diff_machine === true,
    censored,
  };
}
