/**
 * What happened between two scrapes (a step's measured window, or one second of a timeline):
 * differences of the services' counters and histograms, CPU from /proc ticks, peak RSS. Pure.
 *
 * Sources, and why:
 * - committed placements and the conflict fraction come from cell-state's committer counters
 *   (`tessera_commit_claims_total{outcome}`): the committer is the one place that sees every
 *   claim of every replica, and "committed" there is what a placement means;
 * - job delay comes from the schedulers' `tessera_scheduler_job_delay_seconds` histograms
 *   (submission time, set by the load generator to the job's due time, to its last task
 *   committed): they cover every job at no extra load, and differencing two scrapes gives exactly
 *   the jobs finished in the window. Their resolution is the bucket grid (5, 10, 25, 50, 100 ms…),
 *   quantiles are interpolated inside a bucket; the exact per-job delay from cell-state's job
 *   listing (`placedAt − submittedAt`) is sampled separately as a cross-check (delay-check.ts);
 * - retries, staleness and sync bytes/durations are the schedulers' own counters and histograms.
 */
import {
  EMPTY_HISTOGRAM, histogramAdd, histogramDelta, histogramMean, histogramOf, histogramQuantile, sumOf, type Histogram, type PromSample,
} from './prom.ts';
import { cpuCores, machineBusy } from './proc.ts';
import type { ProcessKind, Scrape } from './scrape.ts';
import { slope } from './stats.ts';

export interface DelaySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
}

export interface ProcessUsage {
  readonly name: string;
  readonly kind: ProcessKind;
  /** Cores used on average over the window (1 = one core busy all the time). */
  readonly cpuCores: number;
  /** Share of the whole machine (cpuCores / cores). */
  readonly cpuShare: number;
  /** Resident set at the end of the window, MB. */
  readonly rssMb: number;
  /** Peak resident set since the process started (VmHWM), MB. */
  readonly peakRssMb: number;
}

export interface WindowMetrics {
  readonly seconds: number;
  readonly placementsPerS: number;
  /** Σ of the schedulers' own placement counters (cross-check of the committer's count). */
  readonly schedulerPlacementsPerS: number;
  readonly claimsCommitted: number;
  readonly claimsRejected: number;
  readonly conflictFraction: number;
  readonly conflictsByReason: Readonly<Record<string, number>>;
  readonly retriesPerPlacement: number;
  readonly jobsFinished: number;
  readonly jobsByOutcome: Readonly<Record<string, number>>;
  readonly delayMs: DelaySummary;
  readonly delayHistogram: Histogram;
  readonly stalenessMs: DelaySummary;
  readonly syncBytesPerS: number;
  readonly syncRequestsPerS: number;
  readonly syncMs: DelaySummary;
  readonly commitBatchMs: DelaySummary;
  readonly allocatedRatio: Readonly<Record<string, number>>;
  readonly backlog: { readonly start: number; readonly end: number; readonly max: number; readonly slopePerS: number };
  /**
   * Tasks published by the load generator and not committed yet (cumulative published tasks −
   * cell-state's committed claims), at the end of the window: a job counts once in the jobs
   * backlog whatever its size; this counts the work left.
   */
  readonly taskBacklogEnd: number;
  /**
   * How far the committed work trails the offered work at the end of the window, in seconds: the
   * time since the load generator had published as many tasks as cell-state has now committed
   * (reading both cumulative curves, as if tasks were placed in submission order). 0 when every
   * published task is committed; `seconds` (the window) or more is reported as the window length.
   */
  readonly workLagS: number;
  readonly generator: { readonly published: number; readonly tasks: number; readonly late: number; readonly errors: number; readonly maxLagMs: number };
  readonly processes: readonly ProcessUsage[];
  readonly machine: {
    readonly cores: number;
    /** Cores busy on the whole machine. */
    readonly busyCores: number;
    /** Cores used by the processes we measure (the cell, the load generator, the benchmark). */
    readonly oursCores: number;
    /** What is left: other work on the machine (colleagues' test runs) — contention. */
    readonly otherCores: number;
  };
}

const MS = 1000;

function schedulerHistogram(s: Scrape, base: string): Histogram {
  let h = EMPTY_HISTOGRAM;
  for (const x of s.schedulers) h = histogramAdd(h, histogramOf(x.samples, base));
  return h;
}

function schedulerSum(s: Scrape, name: string, filter?: Record<string, string>): number {
  let v = 0;
  for (const x of s.schedulers) v += sumOf(x.samples, name, filter);
  return v;
}

export function summarise(h: Histogram, scale = MS): DelaySummary {
  return {
    p50: histogramQuantile(h, 0.5) * scale,
    p90: histogramQuantile(h, 0.9) * scale,
    p99: histogramQuantile(h, 0.99) * scale,
    mean: histogramMean(h) * scale,
  };
}

function labelValues(samples: readonly PromSample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of samples) if (x.name === name && x.labels[label] !== undefined) out[x.labels[label]] = (out[x.labels[label]] ?? 0) + x.value;
  return out;
}

function diffRecords(b: Record<string, number>, a: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

const backlogOf = (s: Scrape) => (s.backlog === undefined ? Number.NaN : s.backlog.pending + s.backlog.ackPending);

/**
 * Metrics of the window (a, b]; `between` are the scrapes in it (for the backlog's trend), in
 * order, a and b included or not. `cores` is the machine's CPU count, `ticks` its clock ticks/s.
 */
export function windowMetrics(a: Scrape, b: Scrape, between: readonly Scrape[], cores: number, ticks: number): WindowMetrics {
  const seconds = (b.t - a.t) / 1000;
  const committed = sumOf(b.cellState, 'tessera_commit_claims_total', { outcome: 'committed' }) - sumOf(a.cellState, 'tessera_commit_claims_total', { outcome: 'committed' });
  const rejected = sumOf(b.cellState, 'tessera_commit_claims_total', { outcome: 'rejected' }) - sumOf(a.cellState, 'tessera_commit_claims_total', { outcome: 'rejected' });
  const schedPlacements = schedulerSum(b, 'tessera_scheduler_placements_total') - schedulerSum(a, 'tessera_scheduler_placements_total');
  const retries = schedulerSum(b, 'tessera_scheduler_retries_total') - schedulerSum(a, 'tessera_scheduler_retries_total');
  const delay = histogramDelta(schedulerHistogram(b, 'tessera_scheduler_job_delay_seconds'), schedulerHistogram(a, 'tessera_scheduler_job_delay_seconds'));
  const staleness = histogramDelta(schedulerHistogram(b, 'tessera_scheduler_partition_staleness_seconds'), schedulerHistogram(a, 'tessera_scheduler_partition_staleness_seconds'));
  const sync = histogramDelta(schedulerHistogram(b, 'tessera_scheduler_sync_seconds'), schedulerHistogram(a, 'tessera_scheduler_sync_seconds'));
  const batch = histogramDelta(histogramOf(b.cellState, 'tessera_commit_batch_seconds'), histogramOf(a.cellState, 'tessera_commit_batch_seconds'));
  const syncBytes = schedulerSum(b, 'tessera_scheduler_sync_bytes_total') - schedulerSum(a, 'tessera_scheduler_sync_bytes_total');

  const jobsA: Record<string, number> = {};
  const jobsB: Record<string, number> = {};
  for (const x of a.schedulers) for (const [k, v] of Object.entries(labelValues(x.samples, 'tessera_scheduler_jobs_total', 'outcome'))) jobsA[k] = (jobsA[k] ?? 0) + v;
  for (const x of b.schedulers) for (const [k, v] of Object.entries(labelValues(x.samples, 'tessera_scheduler_jobs_total', 'outcome'))) jobsB[k] = (jobsB[k] ?? 0) + v;

  const inWindow = [a, ...between.filter((s) => s.t > a.t && s.t < b.t), b];
  const backlogPoints = inWindow.map((s) => [(s.t - a.t) / 1000, backlogOf(s)] as [number, number]).filter(([, v]) => Number.isFinite(v));

  const processes: ProcessUsage[] = [];
  let ours = 0;
  for (const pb of b.processes) {
    const pa = a.processes.find((p) => p.pid === pb.pid);
    const c = pa?.stat !== undefined && pb.stat !== undefined ? cpuCores(pa.stat, pb.stat, seconds, ticks) : Number.NaN;
    if (Number.isFinite(c)) ours += c;
    processes.push({
      name: pb.name, kind: pb.kind, cpuCores: c, cpuShare: c / cores,
      rssMb: (pb.status?.vmRssKb ?? Number.NaN) / 1024, peakRssMb: (pb.status?.vmHwmKb ?? Number.NaN) / 1024,
    });
  }
  const busyCores = machineBusy(a.machine, b.machine) * cores;

  const ga = a.loadgen, gb = b.loadgen;
  return {
    seconds,
    placementsPerS: committed / seconds,
    schedulerPlacementsPerS: schedPlacements / seconds,
    claimsCommitted: committed,
    claimsRejected: rejected,
    conflictFraction: committed + rejected > 0 ? rejected / (committed + rejected) : 0,
    conflictsByReason: diffRecords(labelValues(b.cellState, 'tessera_commit_conflicts_total', 'reason'), labelValues(a.cellState, 'tessera_commit_conflicts_total', 'reason')),
    retriesPerPlacement: schedPlacements > 0 ? retries / schedPlacements : 0,
    jobsFinished: delay.count,
    jobsByOutcome: diffRecords(jobsB, jobsA),
    delayMs: summarise(delay),
    delayHistogram: delay,
    stalenessMs: summarise(staleness),
    syncBytesPerS: syncBytes / seconds,
    syncRequestsPerS: sync.count / seconds,
    syncMs: summarise(sync),
    commitBatchMs: summarise(batch),
    allocatedRatio: labelValues(b.cellState, 'tessera_cell_allocated_ratio', 'resource'),
    backlog: {
      start: backlogOf(a), end: backlogOf(b),
      max: backlogPoints.reduce((m, [, v]) => Math.max(m, v), 0),
      slopePerS: slope(backlogPoints),
    },
    workLagS: workLag(inWindow),
    taskBacklogEnd: gb === undefined ? Number.NaN : Math.max(0, gb.tasks - sumOf(b.cellState, 'tessera_commit_claims_total', { outcome: 'committed' })),
    generator: {
      published: (gb?.published ?? 0) - (ga?.published ?? 0),
      tasks: (gb?.tasks ?? 0) - (ga?.tasks ?? 0),
      late: (gb?.late ?? 0) - (ga?.late ?? 0),
      errors: (gb?.errors ?? 0) - (ga?.errors ?? 0),
      maxLagMs: Math.max(0, ...inWindow.slice(1).map((s) => s.loadgen?.maxLagMs ?? 0)),
    },
    processes,
    machine: { cores, busyCores, oursCores: ours, otherCores: Math.max(0, busyCores - ours) },
  };
}

/**
 * The work lag at the last scrape of `series` (see WindowMetrics.workLagS): committed claims at
 * the end against the load generator's published tasks over the scrapes, interpolated linearly.
 */
export function workLag(series: readonly Scrape[]): number {
  const last = series[series.length - 1];
  if (last?.loadgen === undefined) return Number.NaN;
  const committed = sumOf(last.cellState, 'tessera_commit_claims_total', { outcome: 'committed' });
  if (committed >= last.loadgen.tasks) return 0;
  for (let i = series.length - 1; i > 0; i--) {
    const hi = series[i], lo = series[i - 1];
    const pHi = hi.loadgen?.tasks ?? Number.NaN, pLo = lo.loadgen?.tasks ?? Number.NaN;
    if (!(pLo <= committed)) continue;
    // published crossed `committed` between lo and hi
    const f = pHi > pLo ? (committed - pLo) / (pHi - pLo) : 1;
    return (last.t - (lo.t + f * (hi.t - lo.t))) / 1000;
  }
  return (last.t - series[0].t) / 1000;
}

/** One point of a timeline (delay over time), between consecutive scrapes. */
export interface TimelinePoint {
  /** Seconds since the timeline's origin, at the end of the interval. */
  readonly t: number;
  readonly offeredRate: number;
  readonly placementsPerS: number;
  readonly jobsFinished: number;
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMeanMs: number;
  readonly backlog: number;
  readonly conflictFraction: number;
}

export function timelinePoint(a: Scrape, b: Scrape, originT: number, offeredRate: number): TimelinePoint {
  const seconds = (b.t - a.t) / 1000;
  const committed = sumOf(b.cellState, 'tessera_commit_claims_total', { outcome: 'committed' }) - sumOf(a.cellState, 'tessera_commit_claims_total', { outcome: 'committed' });
  const rejected = sumOf(b.cellState, 'tessera_commit_claims_total', { outcome: 'rejected' }) - sumOf(a.cellState, 'tessera_commit_claims_total', { outcome: 'rejected' });
  const delay = histogramDelta(schedulerHistogram(b, 'tessera_scheduler_job_delay_seconds'), schedulerHistogram(a, 'tessera_scheduler_job_delay_seconds'));
  return {
    t: (b.t - originT) / 1000,
    offeredRate,
    placementsPerS: committed / seconds,
    jobsFinished: delay.count,
    delayP50Ms: histogramQuantile(delay, 0.5) * MS,
    delayP99Ms: histogramQuantile(delay, 0.99) * MS,
    delayMeanMs: histogramMean(delay) * MS,
    backlog: backlogOf(b),
    conflictFraction: committed + rejected > 0 ? rejected / (committed + rejected) : 0,
  };
}
