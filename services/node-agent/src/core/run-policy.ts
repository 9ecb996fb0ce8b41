/** How long a simulated task runs, what an exited process means, and where its log goes; pure. */
import { constants } from 'node:os';
import type { Assignment } from '@tessera/protocol';
import type { TaskResult } from './task-book.ts';

export interface SimTiming {
  /** Durations are divided by this (10 = ten times faster than real time). */
  readonly timeScale: number;
  /** For tasks without `durationS`; Infinity = until the cell says stop. */
  readonly defaultDurationS: number;
}

/** Milliseconds the sim driver lets the task run; undefined = until stopped. */
export function simDurationMs(a: Pick<Assignment, 'durationS'>, t: SimTiming): number | undefined {
  const s = a.durationS ?? t.defaultDurationS;
  if (!Number.isFinite(s)) return undefined;
  return Math.max(0, (s * 1000) / t.timeScale);
}

/** Exit code 0 = succeeded; anything else, or death by a signal (reported as 128 + n), = failed. */
export function execResult(code: number | null, signal: NodeJS.Signals | null): TaskResult {
  if (code === 0) return { outcome: 'succeeded', exitCode: 0 };
  if (code !== null) return { outcome: 'failed', exitCode: code, reason: `exited with code ${code}` };
  const n = signal !== null ? (constants.signals as Record<string, number>)[signal] : undefined;
  return { outcome: 'failed', exitCode: n !== undefined ? 128 + n : undefined, reason: `killed by ${signal ?? 'an unknown signal'}` };
}

/** A file name for the task's output that cannot escape the log folder (`/` and `..` encoded). */
export function taskLogFileName(taskId: string): string {
  return `${encodeURIComponent(taskId).replace(/^\./, '%2E')}.log`;
}
