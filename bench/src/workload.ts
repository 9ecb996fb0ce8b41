/**
 * The workload as the benchmark process sees it (the load generator draws the jobs; this side only
 * needs the distribution's averages): offered utilisation of a cell at a rate, and the sim time
 * scale that keeps the cell at a chosen utilisation.
 */
import { arrivalRateForUtilisation, BUNDLED, CELL_SHAPES, jobSizeDistribution, loadTrace, type JobSizeDistribution } from '@tessera/workloads';
import type { NodeShape } from '@tessera/launcher';

export const DEFAULT_SHAPE: NodeShape = CELL_SHAPES.alibaba2017;

export async function loadDistribution(trace = BUNDLED.alibaba2017Jobs): Promise<JobSizeDistribution> {
  const { jobs } = await loadTrace(trace);
  return jobSizeDistribution(jobs);
}

export function cellCapacityOf(nodes: number, shape: NodeShape): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(shape)) if (typeof v === 'number' && v > 0) out[k] = v * nodes;
  return out;
}

/**
 * Utilisation (of the bottleneck resource) that `rate` jobs/s offer a cell of `capacity` when task
 * run times are divided by `timeScale`.
 */
export function offeredUtilisation(dist: JobSizeDistribution, capacity: Record<string, number>, rate: number, timeScale: number): number {
  return rate / arrivalRateForUtilisation(dist, capacity, 1) / timeScale;
}

/** The time scale at which `rate` jobs/s keep the cell `utilisation` busy (at least 1). */
export function timeScaleFor(dist: JobSizeDistribution, capacity: Record<string, number>, rate: number, utilisation: number): number {
  return Math.max(1, Math.ceil(offeredUtilisation(dist, capacity, rate, 1) / utilisation));
}
