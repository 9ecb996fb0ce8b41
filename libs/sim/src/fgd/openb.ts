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
 * Seeds 42..51 are FGD's own: their shuffle and tuning draws, and the random prefixes FGD's
 * simulator puts before node names (fgdNodes), are the ones Go's math/rand made in FGD's runs
 * (recorded in workloads/fgd-go-rand.openb.json.gz, go-draws.ts), so those arrival sequences and
 * tie-breaks are FGD's exactly. Any other seed draws from tessera's rng: same protocol, other orders.
 */
import { expandTasks, ResourceSpace, type NodeRegistration, type TaskRequest } from '@tessera/core';
import { createRng } from '@tessera/policy';
import { BUNDLED, loadTrace, nodeRegistration, readMachines } from '@tessera/workloads';
import { shapeOfTask, type TaskShape } from '@tessera/policy';
import { readGoDraws, type GoSeedDraws } from './go-draws.ts';

export const OPENB_SPACE = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);

export interface OpenbCell {
  readonly space: ResourceSpace;
  readonly nodes: readonly NodeRegistration[];
  /** The pods as tasks, sorted by pod name (FGD's workload order before the shuffle). */
  readonly pods: readonly TaskRequest[];
  /** GPU milli of the whole cell (GPUs × 1000). */
  readonly gpuMilli: number;
  /** FGD's recorded Go draws per seed (42..51). */
  readonly goDraws: ReadonlyMap<number, GoSeedDraws>;
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
    const goDraws = await readGoDraws(BUNDLED.fgdGoRandOpenb, pods.length, nodes.length);
    return { space, nodes, pods, gpuMilli: gpus * 1000, goDraws };
  })();
  return cached;
}

/** GPU milli a task asks for in total (FGD's TotalMilliGpu). */
export function totalMilliOf(shape: TaskShape): number {
  return shape.milli * shape.gpus;
}

/** The tune FGD's recorded draws were made for (scripts/fgd-go-rand -tune). */
const GO_DRAWS_TUNE = 1.3;

/** FGD's arrival sequence for one seed (see the file comment). */
export function fgdArrivals(cell: OpenbCell, seed: number, tune = 1.3): TaskRequest[] {
  const go = cell.goDraws.get(seed);
  let out: TaskRequest[];
  let drawPod: () => number;
  if (go !== undefined) {
    out = go.shuffle.map((i) => cell.pods[i]);
    if (tune !== GO_DRAWS_TUNE) throw new Error(`seed ${seed}: FGD's recorded draws are for tune ${GO_DRAWS_TUNE}, not ${tune}`);
    let next = 0;
    drawPod = () => {
      if (next >= go.tuneDraws.length) throw new Error(`seed ${seed}: FGD's recorded tuning draws ran out after ${next} pods`);
      return go.tuneDraws[next++];
    };
  } else {
    const rng = createRng(`fgd/${seed}`);
    out = [...cell.pods];
    for (let i = out.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    drawPod = () => rng.int(cell.pods.length);
  }
  let total = 0;
  for (const p of cell.pods) total += totalMilliOf(shapeOfTask(p, cell.space));
  const target = tune * cell.gpuMilli;
  for (let i = 0; ; i++) {
    const src = cell.pods[drawPod()];
    const shape = shapeOfTask(src, cell.space);
    if (total + shape.milli > target) {
      if (go !== undefined && i + 1 !== go.tuneDraws.length) {
        throw new Error(`seed ${seed}: tuning stopped after ${i + 1} draws, FGD's stopped after ${go.tuneDraws.length}`);
      }
      break;
    }
    total += totalMilliOf(shape);
    const jobId = `${src.jobId}-tuned-${i}`;
    out.push({ ...src, jobId, id: `${jobId}/${src.group}/${src.index}` });
  }
  return out;
}

/**
 * The cell's nodes as FGD's simulator names them for one seed: node i (in name order) renamed
 * `${nodePrefix[i] as %04d}-${name}` and the list sorted by the new names, so that visiting the
 * nodes in order and keeping the first best one breaks ties where FGD's "smallest name" does.
 * Seeds without FGD's draws keep the names and their order.
 */
export function fgdNodes(cell: OpenbCell, seed: number): readonly NodeRegistration[] {
  const go = cell.goDraws.get(seed);
  if (go === undefined) return cell.nodes;
  return cell.nodes.map((n, i) => ({ ...n, id: `${String(go.nodePrefix[i]).padStart(4, '0')}-${n.id}` }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
