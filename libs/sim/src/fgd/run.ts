/**
 * One run of the FGD experiment with one scheduler (FGD's own setting): the openb cell, FGD's
 * arrivals for a seed, each pod placed by tessera's placement (filters → the policy's scorer over
 * every node, quality-first on a view kept fresh by the commit replies, as a lone scheduler's is)
 * and committed by the core committer, the pod's GPU devices chosen by the policy. Pure apart from
 * reading the bundled trace: same options, same result.
 */
import { CellState, Committer, SchedulerView, gpuDims, type NodeState } from '@tessera/core';
import {
  FIRST_LISTED, DEFAULT_FILTERS, createPipeline, forgetClaims, freeInto, nodeFrag, placeJob, shapeOfTask, typicalMix,
  type FragNode, type PipelineSpec, type Rng, type ShapeMix,
} from '@tessera/policy';
import { curveAt, discreteCurve, type GpuCurve, type GpuRecord } from './metrics.ts';
import { fgdArrivals, fgdNodes, loadOpenb, totalMilliOf, type OpenbCell } from './openb.ts';

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

/** The pipeline of a run: the default filters (with gpu-devices) and the policy's scorer alone. */
export function pipelineSpecFor(cell: OpenbCell, o: FgdRunOptions): PipelineSpec {
  const res = o.resolution === undefined ? {} : { resolution: o.resolution };
  let args: unknown = res;
  if (o.policy === 'fgd') {
    const m = traceMix(cell);
    args = o.mix === 'learned' ? { ...(o.window === undefined ? {} : { window: o.window }), ...res } : { mix: m.shapes.map((s, i) => ({ ...s, weight: m.weights[i] })), ...res };
  } else if (o.policy === 'packing') {
    args = undefined;
  } else if (o.policy === 'random') {
    args = { seed: o.seed };
  }
  return { filters: DEFAULT_FILTERS, scorers: [{ name: o.policy, args }] };
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

/**
 * FGD's simulator breaks score ties by the smallest node name (its kube-scheduler fork's
 * `selectHost`: "for reproducibility, choose the smallest lexicographical order"), which packs
 * ties onto the first nodes — in the order of the random prefixes it gives node names (fgdNodes).
 * The nodes are listed by name here, and FIRST_LISTED visits them in that order.
 */
export const NAME_ORDER: Rng = FIRST_LISTED;

export async function runFgd(o: FgdRunOptions): Promise<FgdRunResult> {
  const cell = await loadOpenb();
  const arrivals = fgdArrivals(cell, o.seed, o.tune ?? 1.3);
  const space = cell.space;
  const cs = new CellState(space, 1);
  for (const n of fgdNodes(cell, o.seed)) cs.upsertNode(n);
  const committer = new Committer(cs, { granularity: 'fine' });
  const view = new SchedulerView(space, 1);
  view.applySync(cs.sync(0, -1), 0);
  const pipeline = createPipeline(pipelineSpecFor(cell, o), { space });
  const frag = new ClusterFrag(traceMix(cell), cs);
  const rng = NAME_ORDER;
  const milli = gpuDims(space).milli;
  const records: GpuRecord[] = [];
  let arrived = 0;
  let allocated = 0;
  let placed = 0;
  for (let k = 0; k < arrivals.length; k++) {
    const task = arrivals[k];
    arrived += totalMilliOf(shapeOfTask(task, space));
    // One placement call per pod: the pipeline's prepare (FGD's learned mix sees the pod), the
    // decision, the devices its scorer picks, booked on the view until the committer answers.
    const jp = placeJob(view, [task], { mode: 'quality-first', scorer: o.policy, sampleSize: 0, now: 0, rng, pipeline });
    if (jp.claims.length === 1) {
      const r = committer.commit({ id: `t${k}`, schedulerId: 's0', kind: 'incremental', claims: jp.claims }, k + 1);
      forgetClaims(view, jp.claims);
      view.refreshNodes(r.nodes);
      if (r.committed.length === 1) {
        placed++;
        allocated += task.demand[milli];
        frag.update(cs.node(jp.claims[0].nodeId)!);
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
