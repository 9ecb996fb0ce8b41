/**
 * The scale check: a large cell (default 100 000 nodes, 8 schedulers, sim agents of ≤ 20 000
 * nodes each), idle and then under a light load: each process's RSS (now and peak), and the time
 * to sync one partition from the schedulers' `tessera_scheduler_sync_seconds`. The schedulers'
 * sync period is set to P × 10 ms so that each sync request carries exactly one partition (below
 * 10 ms per round the sync loop merges several partitions into one request).
 */
import type { NodeShape } from '@tessera/launcher';
import { runSteps, type StepResult } from './runner.ts';
import { startLoadedCell, type Log, type WorkloadSpec } from './experiments.ts';
import type { BenchCellSpec } from './cell.ts';
import type { WindowMetrics } from './window.ts';
import { windowMetrics } from './window.ts';

export interface ScaleOptions {
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly nodesPerAgent: number;
  readonly shape: NodeShape;
  readonly timeScale: number;
  readonly rate: number;
  readonly idleSeconds: number;
  readonly loadSeconds: number;
  readonly workload: WorkloadSpec;
}

export interface ScaleResult {
  readonly spec: BenchCellSpec;
  readonly startSeconds: number;
  /** From the cell being up to every scheduler's view holding every node. */
  readonly viewsReadySeconds: number;
  readonly syncPeriodMs: number;
  readonly nodesPerPartition: number;
  readonly idle: WindowMetrics;
  readonly loaded?: StepResult;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runScale(o: ScaleOptions, log: Log): Promise<ScaleResult> {
  const t0 = performance.now();
  const syncPeriodMs = o.partitions * 10;
  const spec: BenchCellSpec = {
    nodes: o.nodes, schedulers: o.schedulers, partitions: o.partitions, mode: 'latency-first', timeScale: o.timeScale,
    nodeShape: o.shape, nodesPerAgent: o.nodesPerAgent, extraArgs: { scheduler: ['--sync-ms', String(syncPeriodMs)] },
  };
  const { cell, readySeconds } = await startLoadedCell('scale', spec, o.workload, log);
  try {
    log(`  idle for ${o.idleSeconds} s`);
    const a = await cell.scrape();
    await sleep(o.idleSeconds * 1000);
    const b = await cell.scrape();
    const idle = windowMetrics(a, b, [], cell.cores, cell.ticks);
    const perPartition = o.nodes / o.partitions;
    log(`  idle: one-partition sync p50 ${idle.syncMs.p50.toFixed(2)} ms, p99 ${idle.syncMs.p99.toFixed(2)} ms (${Math.round(perPartition)} nodes/partition), `
      + idle.processes.filter((p) => p.kind === 'scheduler' || p.kind === 'cell-state').map((p) => `${p.name} ${p.rssMb.toFixed(0)} MB`).join(', '));
    let loaded: StepResult | undefined;
    if (o.loadSeconds > 0 && o.rate > 0) {
      const r = await runSteps(cell, [{ label: 'load', rate: o.rate, seconds: o.loadSeconds, warmSeconds: Math.min(5, o.loadSeconds / 3) }], { log: (l) => log(`  ${l}`) });
      loaded = r.steps[0];
    }
    return { spec, startSeconds: cell.startSeconds, viewsReadySeconds: readySeconds, syncPeriodMs, nodesPerPartition: perPartition, idle, ...(loaded ? { loaded } : {}), seconds: (performance.now() - t0) / 1000 };
  } finally {
    await cell.stop();
  }
}
