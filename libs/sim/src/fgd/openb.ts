/**
 * The openb cell and pods of the FGD paper (Alibaba cluster-trace-gpu-v2023, 8,152 pods) and FGD's
 * experiment protocol. The cell is the trace's 1,213 GPU nodes (6,212 GPUs): FGD's experiments run
 * on `openb_node_list_gpu_node` (data/prepare_input.sh copies it into every trace folder), the node
 * list without its 310 CPU-only nodes, so CPU-only pods compete with GPU pods for GPU nodes' CPU.
 * Arrivals follow (kubernetes-scheduler-simulator `SortClusterPods` with
 * `--shuffle-pod=true`, then `TunePodsByNodeTotalResource` with `-tune 1.3`):
 * 1. the pods, sorted by name, are shuffled with the seed (Fisher-Yates from the end, as Go's
 *    rand.Shuffle);
 * 2. their GPU demand (98 % of the cell's GPUs) is tuned up to 130 % of the cell's GPU milli by
 *    appending copies of pods drawn uniformly (with replacement) from the original list, until the
 *    next copy would pass the target. FGD compares the total with the copy's GPU milli *per GPU*
 *    (`podTotalMilliGpuReq + podRes.MilliGpu`), kept here as it is;
 * 3. pods arrive one at a time, in that order, and never leave; a pod that fits nowhere is
 *    skipped (counted as arrived, not placed).
 * Seeds are tessera's rng (FGD's are Go's math/rand with seeds 42..51): the shuffles differ, the
 * protocol is the same.
 */
import { expandTasks, ResourceSpace, type NodeRegistration, type TaskRequest } from '@tessera/core';
import { createRng } from '@tessera/policy';
import { BUNDLED, loadTrace, nodeRegistration, readMachines } from '@tessera/workloads';
import { shapeOfTask, type TaskShape } from '@tessera/policy';

export const OPENB_SPACE = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);

export interface OpenbCell {
  readonly space: ResourceSpace;
  readonly nodes: readonly NodeRegistration[];
  /** The pods as tasks, sorted by pod name (FGD's workload order before the shuffle). */
  readonly pods: readonly TaskRequest[];
  /** GPU milli of the whole cell (GPUs × 1000). */
  readonly gpuMilli: number;
}

let cached: Promise<OpenbCell> | undefined;

/** The bundled openb trace and node list (read once per process). */
export function loadOpenb(): Promise<OpenbCell> {
  cached ??= (async () => {
    const space = OPENB_SPACE;
    const { machines } = await readMachines(BUNDLED.alibabaGpu2023Machines);
    const g = space.indexOf('gpu')!;
    const nodes = machines.map((m) => nodeRegistration(m, space)).filter((n) => n.capacity[g] > 0)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const { jobs } = await loadTrace(BUNDLED.alibabaGpu2023Jobs, { space, requireDuration: false });
    const pods = jobs.flatMap((tj) => expandTasks(tj.job, space)).sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
    let gpus = 0;
    for (const n of nodes) gpus += n.capacity[g];
    return { space, nodes, pods, gpuMilli: gpus * 1000 };
  })();
  return cached;
}

/** GPU milli a task asks for in total (FGD's TotalMilliGpu). */
export function totalMilliOf(shape: TaskShape): number {
  return shape.milli * shape.gpus;
}

/** FGD's arrival sequence for one seed (see the file comment). */
export function fgdArrivals(cell: OpenbCell, seed: number, tune = 1.3): TaskRequest[] {
  const rng = createRng(`fgd/${seed}`);
  const out = [...cell.pods];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  let total = 0;
  for (const p of cell.pods) total += totalMilliOf(shapeOfTask(p, cell.space));
  const target = tune * cell.gpuMilli;
  for (let i = 0; ; i++) {
    const src = cell.pods[rng.int(cell.pods.length)];
    const shape = shapeOfTask(src, cell.space);
    if (total + shape.milli > target) break;
    total += totalMilliOf(shape);
    const jobId = `${src.jobId}-tuned-${i}`;
    out.push({ ...src, jobId, id: `${jobId}/${src.group}/${src.index}` });
  }
  return out;
}
