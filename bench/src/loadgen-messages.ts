/** The IPC messages between the benchmark and its load-generator child process. */
import type { NatsCredentials } from '@tessera/runtime';

export interface LoadgenConfig {
  readonly t: 'config';
  readonly natsUrl: string;
  /** How the load generator authenticates (the cell's admin identity: it submits for every tenant of a trace). */
  readonly natsCredentials?: NatsCredentials;
  readonly cell: string;
  /** Seed of the job sequence and of the gaps (the same seed gives the same jobs in the same order). */
  readonly seed: string;
  /** Job ids are `${idPrefix}${n}`. */
  readonly idPrefix: string;
  /** Sampler source (default: the bundled alibaba2017 trace). */
  readonly samplerTrace?: string;
  /** Replay this trace time-compressed instead of sampling (ignores rate changes). */
  readonly replayTrace?: string;
  readonly speed?: number;
  /** Report one job in this many (id, submit time, tasks) for the exact-delay cross-check. */
  readonly sampleEvery?: number;
  /** A job published later than this after its due time counts as "late" (open loop broken). */
  readonly lateMs?: number;
}

export type ToLoadgen =
  | LoadgenConfig
  | { readonly t: 'rate'; readonly rate: number }
  /** Start the job sequence over (same seed: the same jobs again, job ids stay unique) at this rate. */
  | { readonly t: 'restart'; readonly rate: number }
  | { readonly t: 'pause' }
  | { readonly t: 'stop' };

export interface SampledSubmission {
  readonly id: string;
  readonly submittedAt: number;
  readonly tasks: number;
}

export interface LoadgenStats {
  readonly t: 'stats';
  /** Monotonic totals since start. */
  readonly published: number;
  readonly tasks: number;
  readonly late: number;
  readonly errors: number;
  readonly inFlight: number;
  /** Worst lag behind schedule since the last report (ms). */
  readonly maxLagMs: number;
  readonly rate: number;
  readonly sampled: readonly SampledSubmission[];
  readonly done: boolean;
  readonly lastError?: string;
}

export type FromLoadgen =
  | { readonly t: 'ready'; readonly jobs: number; readonly meanTasksPerJob: number; readonly source: string; readonly loadMs: number }
  | LoadgenStats
  | { readonly t: 'error'; readonly message: string };
