/**
 * One run of the FGD experiment with one scheduler (FGD's own setting): the openb cell, FGD's
 * arrivals for a seed, each pod placed by tessera's placement (filters → the policy's scorer over
 * every node, quality-first on a view kept fresh by the commit replies, as a lone scheduler's is)
 * and committed by the core committer, the pod's GPU devices chosen by the policy. Pure apart from
 * reading the bundled trace: same options, same result.
 */
import { CellState, Committer, SchedulerView, bestFitDevices, gpuDims, sharedMilliOf, wholeGpusOf, type Claim, type NodeState, type TaskRequest } from '@tessera/core';
import {
  Pipeline, createBestfitScorer, createDotprodScorer, createFgdScorer, createGpuDevicesFilter, createPackingScorer, createRandomScorer,
  freeInto, isDeviceChooser, labelConstraintsFilter, nodeFrag, nodeStateFilter, placeTask, resourceFitFilter, shapeOfTask, typicalMix,
  type FragNode, type GpuScoredNode, type Rng, type ScorerPlugin, type ShapeMix,
} from '@tessera/policy';
import { curveAt, discreteCurve, type GpuCurve, type GpuRecord } from './metrics.ts';
import { fgdArrivals, loadOpenb, totalMilliOf, type OpenbCell } from './openb.ts';

export const GPU_POLICIES = ['fgd', 'bestfit', 'packing', 'dotprod', 'random'] as const;
export type GpuPolicy = (typeof GPU_POLICIES)[number];

export interface FgdRunOptions {
  readonly policy: GpuPolicy;
  readonly seed: number;
  /** FGD's task-shape mix: `trace` = the typical shapes of the whole pod list (FGD's setting), `learned` = a window of recent arrivals. */
  readonly mix?: 'trace' | 'learned';
  /** Window of the learned mix (tasks). */
  readonly window?: number;
  /** Score resolution (FGD: 100, integer scores); 0: exact. */
  readonly resolution?: number;
  readonly tune?: number;
}

export interface FgdRunResult {
  readonly policy: GpuPolicy;
  readonly seed: number;
  readonly alloc_pct_at_100: number | null;
  readonly alloc_pct_at_130: number | null;
  readonly frag_rate_at_90: number | null;
  readonly pods: number;
  readonly placed: number;
  readonly failed: number;
  readonly curve: GpuCurve;
}

/** The workload's typical shapes (FGD's typicalPods: every pod of the original list, top 95 %). */
export function traceMix(cell: OpenbCell): ShapeMix {
  return typicalMix(cell.pods.map((p) => shapeOfTask(p, cell.space)));
}

export function scorerFor(cell: OpenbCell, o: FgdRunOptions): ScorerPlugin {
  const h = { space: cell.space };
  const res = o.resolution === undefined ? {} : { resolution: o.resolution };
  switch (o.policy) {
    case 'fgd': {
      if (o.mix === 'learned') return createFgdScorer({ window: o.window, ...res }, h);
      const m = traceMix(cell);
      return createFgdScorer({ mix: m.shapes.map((s, i) => ({ ...s, weight: m.weights[i] })), ...res }, h);
    }
    case 'bestfit': return createBestfitScorer(res, h);
    case 'packing': return createPackingScorer(undefined, h);
    case 'dotprod': return createDotprodScorer(res, h);
    case 'random': return createRandomScorer({ seed: o.seed }, h);
  }
}

/** Per-node fragmentation under a fixed mix, kept up to date as nodes change. */
export class ClusterFrag {
  private readonly frag: Float64Array;
  private readonly free: Float64Array;
  fragMilli = 0;
  freeMilli = 0;
  private readonly scratch = { cpuLeft: 0, free: new Float64Array(64), devices: 0, model: undefined as string | undefined };
  private readonly cpu: number;

  constructor(private readonly mix: ShapeMix, private readonly cell: CellState) {
    this.frag = new Float64Array(cell.nodeCount);
    this.free = new Float64Array(cell.nodeCount);
    this.cpu = cell.space.indexOf('cpu_millis')!;
    for (const n of cell.nodes) this.update(n);
  }

  update(n: NodeState): void {
    const s = this.scratch;
    s.cpuLeft = n.capacity[this.cpu] - n.allocated[this.cpu];
    s.devices = n.gpus?.length ?? 0;
    freeInto(s.free, n.gpus, undefined, s.devices);
    s.model = n.labels.gpu_model;
    let free = 0;
    for (let i = 0; i < s.devices; i++) free += s.free[i];
    const f = nodeFrag(this.mix, s as FragNode);
    this.fragMilli += f - this.frag[n.index];
    this.freeMilli += free - this.free[n.index];
    this.frag[n.index] = f;
    this.free[n.index] = free;
  }
}

/** The devices the pipeline's first device-choosing scorer picks, else best fit. */
export function devicesFor(pipeline: Pipeline, node: GpuScoredNode, task: TaskRequest, space: CellState['space']): readonly number[] | undefined {
  for (let i = 0; i < pipeline.scorers.length; i++) {
    const s = pipeline.scorers[i];
    if (pipeline.weights[i] > 0 && isDeviceChooser(s)) return s.devices(node, task);
  }
  const d = gpuDims(space);
  return bestFitDevices(node.gpus, node.reservedGpus, wholeGpusOf(task.demand, d), sharedMilliOf(task.demand, d));
}

/**
 * FGD's simulator breaks score ties by the smallest node name (its kube-scheduler fork's
 * `selectHost`: "for reproducibility, choose the smallest lexicographical order"), which packs
 * ties onto the first nodes. tessera's placement keeps the first best node it visits, from a
 * seeded start with a seeded stride; this "rng" (always 0) makes it visit the nodes in their listed
 * order (start 0, stride 1) — by name — so ties go where FGD's go.
 */
export const NAME_ORDER: Rng = Object.freeze({ next: () => 0, int: () => 0 });

export async function runFgd(o: FgdRunOptions): Promise<FgdRunResult> {
  const cell = await loadOpenb();
  const arrivals = fgdArrivals(cell, o.seed, o.tune ?? 1.3);
  const space = cell.space;
  const cs = new CellState(space, 1);
  for (const n of cell.nodes) cs.upsertNode(n);
  const committer = new Committer(cs, { granularity: 'fine' });
  const view = new SchedulerView(space, 1);
  view.applySync(cs.sync(0, -1), 0);
  const scorer = scorerFor(cell, o);
  const pipeline = new Pipeline([labelConstraintsFilter, resourceFitFilter, createGpuDevicesFilter(undefined, { space }), nodeStateFilter], [scorer], [1]);
  const frag = new ClusterFrag(traceMix(cell), cs);
  const rng = NAME_ORDER;
  const observe = (scorer as { observe?: (t: TaskRequest) => void }).observe;
  const records: GpuRecord[] = [];
  const milli = gpuDims(space).milli;
  let arrived = 0;
  let allocated = 0;
  let placed = 0;
  for (let k = 0; k < arrivals.length; k++) {
    const task = arrivals[k];
    observe?.(task);
    arrived += totalMilliOf(shapeOfTask(task, space));
    const p = placeTask(view, task, { mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: 0, rng, pipeline });
    if (p.ok) {
      const devices = devicesFor(pipeline, p.node, task, space);
      const claim: Claim = { taskId: task.id, jobId: task.jobId, nodeId: p.node.id, demand: task.demand, seenVersion: p.node.version, devices };
      const r = committer.commit({ id: `t${k}`, schedulerId: 's0', kind: 'incremental', claims: [claim] }, k + 1);
      view.refreshNodes(r.nodes);
      if (r.committed.length === 1) {
        placed++;
        allocated += task.demand[milli];
        frag.update(cs.node(p.node.id)!);
      }
    }
    records.push({ arrivedMilli: arrived, allocatedMilli: allocated, fragMilli: frag.fragMilli, freeMilli: frag.freeMilli });
  }
  const curve = discreteCurve(records, cell.gpuMilli);
  return {
    policy: o.policy, seed: o.seed,
    alloc_pct_at_100: curveAt(curve, curve.alloc_pct, 100) ?? null,
    alloc_pct_at_130: curveAt(curve, curve.alloc_pct, 130) ?? null,
    frag_rate_at_90: curveAt(curve, curve.frag_pct, 90) ?? null,
    pods: arrivals.length, placed, failed: arrivals.length - placed, curve,
  };
}
