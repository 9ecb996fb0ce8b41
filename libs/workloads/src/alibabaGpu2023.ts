/**
 * Alibaba cluster-trace-gpu-v2023 ("openb", FGD paper, ATC'23) → tessera.
 *
 * Mapping rules (also in workloads/README.md):
 * - one job per pod, one task group `pod` with count 1; job id = pod name; submit = creation_time.
 * - cpu_millis and mem_mib are copied (the trace has absolute units).
 * - GPUs: a pod asking for whole GPUs (gpu_milli ≥ 1000 per GPU) gets `gpu` = num_gpu; a pod asking
 *   for a share of one GPU gets `gpu_milli` = its gpu_milli. Whole-GPU pods also carry
 *   `gpu_milli` = num_gpu × 1000, and nodes have `gpu_milli` = gpus × 1000: with the two resources
 *   independent in core, that is what stops a node from booking the same device once as a whole
 *   GPU and again as shares. (Which device a share lands on — the fragmentation FGD studies — is
 *   not modelled: shares are pooled per node.) A multi-GPU pod with a partial share per GPU
 *   (none in the default pod list) gets gpu_milli = num_gpu × gpu_milli.
 * - `gpu_spec` (allowed GPU models, `|`-separated) → constraint `{ label: 'gpu_model', op: 'in' }`
 *   (null in every row of the default pod list, so no real pod carries it).
 * - duration_s = deletion − scheduled time; the 897 pods never scheduled have none.
 * - `qos` (LS/BE/Burstable/Guaranteed) and `phase` go to `meta`; core has no QoS field and we do
 *   not invent a priority mapping for it.
 */
import type { ConvertOptions, DraftGroup, DraftResult, GroupSkip } from './draft.ts';
import { FieldError, finite, isObj, nonNegative, optionalFinite, optionalStr, str, type Obj } from './fields.ts';
import { SKIP_REASONS, type MetaValue } from './types.ts';

export const GPU_MODEL_LABEL = 'gpu_model';

export function alibabaGpu2023Job(rec: Obj, options: ConvertOptions): DraftResult {
  const bad = (message: string) => ({ skip: SKIP_REASONS.invalidRecord, message });
  const id = str(rec, 'job', 'job');
  if (id instanceof FieldError) return bad(id.message);
  const submit = finite(rec, 'submit_s', 'job');
  if (submit instanceof FieldError) return bad(submit.message);
  const rows = rec.tasks;
  if (!Array.isArray(rows) || rows.length !== 1 || !isObj(rows[0])) return bad('job.tasks must hold exactly one pod');
  const t = rows[0];
  const where = 'tasks[0]';
  const name = str(t, 'name', where);
  const cpu = nonNegative(t, 'cpu_millis', where);
  const mem = nonNegative(t, 'mem_mib', where);
  const numGpu = nonNegative(t, 'num_gpu', where);
  const gpuMilli = nonNegative(t, 'gpu_milli', where);
  const spec = optionalStr(t, 'gpu_spec', where);
  const duration = optionalFinite(t, 'duration_s', where);
  for (const v of [name, cpu, mem, numGpu, gpuMilli, spec, duration]) if (v instanceof FieldError) return bad(v.message);
  if (!Number.isInteger(numGpu)) return bad(`${where}.num_gpu must be an integer, got ${numGpu as number}`);

  const resources: Record<string, number> = { cpu_millis: cpu as number, mem_mib: mem as number };
  const n = numGpu as number;
  const milli = gpuMilli as number;
  if (n > 0) {
    if (milli >= 1000) {
      resources.gpu = n;
      resources.gpu_milli = n * 1000;
    } else {
      resources.gpu_milli = n * milli;
    }
  }
  const group: DraftGroup = { name: name as string, count: 1, resources };
  if (spec !== null) {
    const models = (spec as string).split('|').map((s) => s.trim()).filter((s) => s.length > 0);
    if (models.length > 0) group.constraints = [{ label: GPU_MODEL_LABEL, op: 'in', values: models }];
  }
  const skippedGroups: GroupSkip[] = [];
  let withoutDuration = 0;
  if (duration !== null && (duration as number) >= 0) {
    group.duration_s = duration as number;
  } else if (options.requireDuration) {
    skippedGroups.push({ reason: SKIP_REASONS.noDuration, tasks: 1, message: `pod ${id} was never scheduled` });
  } else {
    withoutDuration = 1;
  }
  const meta: Record<string, MetaValue> = {};
  if (typeof rec.qos === 'string') meta.qos = rec.qos;
  if (typeof t.phase === 'string') meta.phase = t.phase;
  return {
    submitS: submit,
    spec: { id: (options.idPrefix ?? '') + id, tasks: skippedGroups.length > 0 ? [] : [group] },
    meta,
    skippedGroups,
    tasksWithoutDuration: withoutDuration,
    tasksRightCensored: 0,
  };
}
