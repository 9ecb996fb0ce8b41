/** The JSON summary (`--json`, last line) of one measured window, in the brief's field names. */
import type { DelayCheck } from './delay-check.ts';
import { round } from './stats.ts';
import type { WindowMetrics } from './window.ts';

export interface JsonSummary {
  readonly placements_per_s: number;
  readonly scheduler_placements_per_s: number;
  readonly offered_jobs_per_s: number;
  readonly offered_tasks_per_s: number;
  readonly jobs_finished: number;
  readonly delay_ms: { readonly p50: number; readonly p90: number; readonly p99: number; readonly mean: number };
  readonly delay_source: string;
  readonly exact_delay_ms?: { readonly n: number; readonly p50: number; readonly p90: number; readonly p99: number };
  readonly conflict_fraction: number;
  readonly retries_per_placement: number;
  /** Mean staleness of the view behind each placement (ms). */
  readonly staleness_ms: number;
  readonly staleness_p99_ms: number;
  readonly sync_bytes_per_s: number;
  readonly sync_ms: { readonly p50: number; readonly p99: number };
  readonly backlog_end: number;
  readonly allocated_ratio: Readonly<Record<string, number>>;
  readonly processes: readonly { readonly name: string; readonly cpu_share: number; readonly cpu_cores: number; readonly rss_mb: number; readonly peak_rss_mb: number }[];
  readonly contention: { readonly cores: number; readonly busy_cores: number; readonly ours_cores: number; readonly other_cores: number };
  saturation_rate?: number;
  throughput_saturation_rate?: number;
}

export const DELAY_SOURCE = 'schedulers\' tessera_scheduler_job_delay_seconds histograms (every job; quantiles interpolated inside buckets)';

export function jsonSummary(m: WindowMetrics, offeredRate: number, check?: DelayCheck): JsonSummary {
  const r = (x: number) => round(x, 4);
  return {
    placements_per_s: r(m.placementsPerS),
    scheduler_placements_per_s: r(m.schedulerPlacementsPerS),
    offered_jobs_per_s: r(offeredRate),
    offered_tasks_per_s: r(m.generator.tasks / m.seconds),
    jobs_finished: m.jobsFinished,
    delay_ms: { p50: r(m.delayMs.p50), p90: r(m.delayMs.p90), p99: r(m.delayMs.p99), mean: r(m.delayMs.mean) },
    delay_source: DELAY_SOURCE,
    ...(check !== undefined && check.all.n > 0 ? { exact_delay_ms: { n: check.all.n, p50: r(check.all.p50), p90: r(check.all.p90), p99: r(check.all.p99) } } : {}),
    conflict_fraction: r(m.conflictFraction),
    retries_per_placement: r(m.retriesPerPlacement),
    staleness_ms: r(m.stalenessMs.mean),
    staleness_p99_ms: r(m.stalenessMs.p99),
    sync_bytes_per_s: r(m.syncBytesPerS),
    sync_ms: { p50: r(m.syncMs.p50), p99: r(m.syncMs.p99) },
    backlog_end: m.backlog.end,
    allocated_ratio: Object.fromEntries(Object.entries(m.allocatedRatio).filter(([, v]) => v > 0).map(([k, v]) => [k, r(v)])),
    processes: m.processes.filter((p) => p.kind !== 'bench').map((p) => ({
      name: p.name, cpu_share: r(p.cpuShare), cpu_cores: r(p.cpuCores), rss_mb: r(p.rssMb), peak_rss_mb: r(p.peakRssMb),
    })),
    contention: { cores: m.machine.cores, busy_cores: r(m.machine.busyCores), ours_cores: r(m.machine.oursCores), other_cores: r(m.machine.otherCores) },
  };
}
