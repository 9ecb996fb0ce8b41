/**
 * Task shapes as FGD sees them (ATC'23 "Beware of Fragmentation"; kubernetes-scheduler-simulator
 * `simontype.PodResource`): CPU milli, GPU milli per GPU, number of GPUs, allowed GPU models. Memory
 * is not part of a shape (FGD's fragmentation is about GPUs, with CPU as the one other dimension).
 */
import { GPU_MODEL_LABEL, gpuDims, sharedMilliOf, wholeGpusOf, MILLI_PER_GPU, type ResourceSpace, type TaskRequest } from '@tessera/core';

export interface TaskShape {
  /** CPU milli (`cpu_millis`). */
  readonly cpu: number;
  /** GPU milli per GPU: 1000 for whole GPUs, the share for a shared one, 0 for a CPU-only task. */
  readonly milli: number;
  /** GPUs: n whole ones, 1 for a share, 0 for a CPU-only task. */
  readonly gpus: number;
  /** Allowed GPU models (the `gpu_model in [...]` constraint); absent: any. */
  readonly models?: readonly string[];
}

/** A stable key for counting shapes (models sorted). */
export function shapeKey(s: TaskShape): string {
  return s.models === undefined || s.models.length === 0 ? `${s.cpu}/${s.milli}/${s.gpus}` : `${s.cpu}/${s.milli}/${s.gpus}/${[...s.models].sort().join('|')}`;
}

/** The shape of a task in a space (`cpu_millis`, `gpu`, `gpu_milli`, its `gpu_model in` constraint). */
export function shapeOfTask(task: TaskRequest, space: ResourceSpace): TaskShape {
  const dims = gpuDims(space);
  const cpuIx = space.indexOf('cpu_millis');
  const cpu = cpuIx === undefined ? 0 : task.demand[cpuIx];
  const whole = wholeGpusOf(task.demand, dims);
  const share = sharedMilliOf(task.demand, dims);
  let models: string[] | undefined;
  for (const c of task.constraints ?? []) {
    if (c.label === GPU_MODEL_LABEL && c.op === 'in' && c.values !== undefined) models = [...c.values];
  }
  const base = whole > 0 ? { cpu, milli: MILLI_PER_GPU, gpus: whole } : share > 0 ? { cpu, milli: share, gpus: 1 } : { cpu, milli: 0, gpus: 0 };
  return models === undefined ? base : { ...base, models };
}

/** Whether a node of GPU model `model` (undefined: a node without GPUs) may host the shape (FGD's IsNodeAccessibleToPod). */
export function modelAllows(shape: TaskShape, model: string | undefined): boolean {
  if (shape.models === undefined || shape.models.length === 0) return true;
  return model !== undefined && shape.models.includes(model);
}

/** The shape of the last task asked about (placement asks once per node for the same task). */
export class ShapeMemo {
  private last: TaskRequest | undefined;
  private shape: TaskShape = { cpu: 0, milli: 0, gpus: 0 };
  constructor(private readonly space: ResourceSpace) {}
  of(task: TaskRequest): TaskShape {
    if (task !== this.last) {
      this.shape = shapeOfTask(task, this.space);
      this.last = task;
    }
    return this.shape;
  }
}
