/**
 * One observation of a running cell from the outside: every service's /metrics, the jobs-stream
 * backlog, each process's /proc counters and the machine's CPU, stamped with one clock. A
 * `Scrape` is plain data so the window arithmetic (window.ts) is pure and testable.
 */
import type { MachineCpu, ProcStat, ProcStatus } from './proc.ts';
import type { PromSample } from './prom.ts';
import type { LoadgenStats } from './loadgen-messages.ts';

export type ProcessKind = 'nats' | 'cell-state' | 'scheduler' | 'node-agent' | 'loadgen' | 'bench';

export interface ProcessReading {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly pid: number;
  readonly stat?: ProcStat;
  readonly status?: ProcStatus;
}

export interface Backlog {
  /** Messages not yet delivered to any scheduler. */
  readonly pending: number;
  /** Delivered, not yet acknowledged (jobs the schedulers are working on). */
  readonly ackPending: number;
}

export interface Scrape {
  /** Monotonic time of the scrape (ms, performance.now of the benchmark). */
  readonly t: number;
  readonly schedulers: readonly { readonly name: string; readonly samples: readonly PromSample[] }[];
  readonly cellState: readonly PromSample[];
  readonly backlog?: Backlog;
  readonly processes: readonly ProcessReading[];
  readonly machine: MachineCpu;
  readonly loadgen?: LoadgenStats;
  /** Scrapes that failed (a service not answering /metrics in time), by service name. */
  readonly failed: readonly string[];
}
