/**
 * Beyond the paper: the FGD experiment with N scheduler replicas in the simulator (the real
 * SchedulerReplica, ParSync views, the core committer; see ../engine.ts). FGD's arrivals, one pod
 * every `intervalMs` (default 10 ms: 100 pods/s), never leaving; a pod that finds no room gives up
 * after `maxWaitMs` (FGD skips it at once); commit conflicts are retried as the replicas do. Each
 * replica has its own pipeline (its own learned or given FGD mix) and visits nodes from its own
 * seeded start, so replicas do not all pick the same node. The allocation and fragmentation are
 * followed after every committer answer, against arrived demand at that instant.
 */
import { gpuDims, type JobSpec, type TxnResult } from '@tessera/core';
import { shapeOfTask } from '@tessera/policy';
import { DEFAULT_SIM_CONFIG, Simulation, type SimConfig, type SimJob } from '../engine.ts';
import { curveAt, discreteCurve, type GpuRecord } from './metrics.ts';
import { fgdArrivals, fgdNodes, loadOpenb, totalMilliOf } from './openb.ts';
import { ClusterFrag, pipelineSpecFor, traceMix, type FgdRunOptions, type FgdRunResult } from './run.ts';

export interface FgdParallelOptions extends FgdRunOptions {
  readonly schedulers: number;
  readonly mode?: SimConfig['mode'];
  readonly partitions?: number;
  readonly syncIntervalMs?: number;
  readonly intervalMs?: number;
  readonly maxWaitMs?: number;
}

export interface FgdParallelResult extends FgdRunResult {
  readonly schedulers: number;
  readonly mode: SimConfig['mode'];
  readonly proposed_claims: number;
  readonly conflicts: number;
  readonly conflict_fraction: number;
}

const NEVER_S = 1e9;

export async function runFgdParallel(o: FgdParallelOptions): Promise<FgdParallelResult> {
  const cell = await loadOpenb();
  const space = cell.space;
  const arrivals = fgdArrivals(cell, o.seed, o.tune ?? 1.3);
  const dt = o.intervalMs ?? 10;
  const jobs: SimJob[] = arrivals.map((t, k) => ({
    submitS: (k * dt) / 1000,
    job: { id: t.jobId, tenant: 'openb', queue: 'default', priority: 100, gang: false, tasks: [{ name: t.group, count: 1, resources: space.record(t.demand), duration_s: NEVER_S, ...(t.constraints === undefined ? {} : { constraints: t.constraints }) }] } as JobSpec,
  }));
  const arrivedAt = new Float64Array(arrivals.length);
  let sum = 0;
  for (let k = 0; k < arrivals.length; k++) arrivedAt[k] = sum += totalMilliOf(shapeOfTask(arrivals[k], space));
  const mode = o.mode ?? 'latency-first';
  const config: SimConfig = {
    ...DEFAULT_SIM_CONFIG,
    schedulers: o.schedulers, partitions: o.partitions ?? 16, syncIntervalMs: o.syncIntervalMs ?? 1000, mode, seed: `fgd/${o.seed}`,
    pipeline: pipelineSpecFor(cell, o), sampleSize: cell.nodes.length, qualitySample: 0, maxTaskDurationS: NEVER_S,
    retry: { maxWaitMs: o.maxWaitMs ?? 1000 },
  };
  const milli = gpuDims(space).milli;
  const records: GpuRecord[] = [];
  let allocated = 0;
  let frag: ClusterFrag | undefined;
  const sim = new Simulation(config, space, fgdNodes(cell, o.seed), jobs, {
    onCommitted: (r: TxnResult, atMs: number) => {
      frag ??= new ClusterFrag(traceMix(cell), sim.cell);
      for (const taskId of r.committed) allocated += sim.cell.allocationOf(taskId)!.demand[milli];
      for (const n of r.nodes) frag.update(sim.cell.node(n.id)!);
      const k = Math.min(arrivals.length - 1, Math.floor(atMs / dt));
      records.push({ arrivedMilli: arrivedAt[k], allocatedMilli: allocated, fragMilli: frag.fragMilli, freeMilli: frag.freeMilli });
    },
  });
  const stats = sim.run();
  const curve = discreteCurve(records, cell.gpuMilli);
  return {
    policy: o.policy, seed: o.seed, schedulers: o.schedulers, mode,
    alloc_pct_at_100: curveAt(curve, curve.alloc_pct, 100) ?? null,
    alloc_pct_at_130: curveAt(curve, curve.alloc_pct, 130) ?? null,
    frag_rate_at_90: curveAt(curve, curve.frag_pct, 90) ?? null,
    pods: arrivals.length, placed: stats.placements, failed: arrivals.length - stats.placements,
    proposed_claims: stats.proposedClaims, conflicts: stats.conflicts, conflict_fraction: stats.proposedClaims > 0 ? stats.conflicts / stats.proposedClaims : 0,
    curve,
  };
}
