/**
 * The exact-delay cross-check: for a sample of the jobs the load generator sent (one in N), ask
 * cell-state's job listing for `placedAt − submittedAt` (both exact, per job) and summarise by job
 * size. The schedulers' histograms cover every job but only to bucket resolution; this covers a
 * sample exactly, and tells small jobs from the big ones that dominate p99 with alibaba2017 sizes.
 */
import type { SampledSubmission } from './loadgen-messages.ts';
import { percentiles, type Percentiles } from './stats.ts';

export interface SizeClass {
  readonly label: string;
  /** Inclusive upper bound on tasks per job. */
  readonly maxTasks: number;
}

export const SIZE_CLASSES: readonly SizeClass[] = [
  { label: '≤ 100 tasks', maxTasks: 100 },
  { label: '101–1 000', maxTasks: 1000 },
  { label: '1 001–10 000', maxTasks: 10_000 },
  { label: '> 10 000', maxTasks: Infinity },
];

export interface DelayCheck {
  readonly sampled: number;
  readonly listed: number;
  /** Listed jobs not placed (yet) when asked, by state. */
  readonly notPlaced: Readonly<Record<string, number>>;
  /**
   * Placed jobs whose listed placedAt equals submittedAt: cell-state took the submission from the
   * stream only after every task had committed, and then stamps placedAt = submittedAt; their real
   * delay is unknown, so they are left out.
   */
  readonly unknownDelay: number;
  readonly all: Percentiles;
  readonly byClass: readonly { readonly label: string; readonly delayMs: Percentiles }[];
}

/** Groups ids so that one listing reply stays well under the bus's message limit (tasks are listed too). */
export function listingBatches(subs: readonly SampledSubmission[], maxTasks = 20_000, maxIds = 50): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let tasks = 0;
  for (const s of subs) {
    if (cur.length > 0 && (tasks + s.tasks > maxTasks || cur.length >= maxIds)) {
      out.push(cur);
      cur = [];
      tasks = 0;
    }
    cur.push(s.id);
    tasks += s.tasks;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export function summariseDelayCheck(subs: readonly SampledSubmission[], listed: readonly { id: string; delayMs?: number; state: string }[]): DelayCheck {
  const tasksOf = new Map(subs.map((s) => [s.id, s.tasks]));
  const notPlaced: Record<string, number> = {};
  const pairs: [number, number][] = [];
  let unknownDelay = 0;
  for (const l of listed) {
    if (l.delayMs === undefined) {
      notPlaced[l.state] = (notPlaced[l.state] ?? 0) + 1;
      continue;
    }
    if (l.delayMs === 0) {
      unknownDelay++;
      continue;
    }
    pairs.push([tasksOf.get(l.id) ?? 0, l.delayMs]);
  }
  let lower = 0;
  const byClass = SIZE_CLASSES.map((c) => {
    const inClass = pairs.filter(([t]) => t > lower && t <= c.maxTasks).map(([, d]) => d);
    lower = c.maxTasks;
    return { label: c.label, delayMs: percentiles(inClass) };
  });
  return { sampled: subs.length, listed: listed.length, notPlaced, unknownDelay, all: percentiles(pairs.map(([, d]) => d)), byClass };
}
