/**
 * What the console shows, computed from two scrapes of the services' /metrics and the cell's
 * listings: pure functions (time passed in), so the figures can be tested without a cell.
 */
import { NODE_CONDITIONS } from '@tessera/core';
import type { NodeListing, PartitionListing } from '@tessera/protocol';
import { bucketDelta, histogramBuckets, histogramQuantile, sumSamples, type Sample } from '../core/prom-text.ts';

/** One scrape of one service. */
export interface ServiceScrape {
  readonly name: string;
  readonly kind: 'cell-state' | 'scheduler';
  readonly samples: readonly Sample[] | undefined;
}

export interface Scrape {
  readonly at: number;
  readonly services: readonly ServiceScrape[];
}

export interface RatePoint {
  readonly at: number;
  readonly placementsPerS: number;
  readonly claimsPerS: number;
  /** Refused claims per second by conflict reason. */
  readonly conflictsPerS: Readonly<Record<string, number>>;
  /** p99 scheduling delay of the jobs placed in the interval (s); undefined when none. */
  readonly delayP99S?: number;
}

export interface SchedulerPanel {
  readonly name: string;
  readonly up: boolean;
  readonly mode?: string;
  readonly effectiveMode?: string;
  /** Age (s) of this replica's copy of each partition; index = partition; null when never synced. */
  readonly viewAgeS: readonly (number | null)[];
}

export interface QueuePanel {
  readonly queue: string;
  readonly allocated: Readonly<Record<string, number>>;
  readonly pendingTasks?: number;
}

/** Node states as small integers for the heatmap: the index into core's NODE_CONDITIONS (the page has the same list). */
export const NODE_STATE_CODES: readonly string[] = NODE_CONDITIONS;

export interface NodesPanel {
  readonly ids: readonly string[];
  readonly partition: readonly number[];
  readonly state: readonly number[];
  /** Allocation, percent of the fullest resource (0-100). */
  readonly alloc: readonly number[];
  readonly partitions: readonly PartitionListing[];
}

const samplesOf = (s: Scrape, kind: ServiceScrape['kind']) => s.services.filter((x) => x.kind === kind).flatMap((x) => x.samples ?? []);

function sumByLabel(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) if (s.name === name && s.labels[label] !== undefined) out.set(s.labels[label], (out.get(s.labels[label]) ?? 0) + s.value);
  return out;
}

/** Rates between two scrapes; counters that went down (a restarted service) count from zero. */
export function ratePoint(before: Scrape, after: Scrape): RatePoint {
  const dt = Math.max(1e-3, (after.at - before.at) / 1000);
  const rate = (a: number | undefined, b: number | undefined) => Math.max(0, (a ?? 0) - ((b ?? 0) > (a ?? 0) ? 0 : (b ?? 0))) / dt;
  const sa = samplesOf(after, 'scheduler'), sb = samplesOf(before, 'scheduler');
  const ca = samplesOf(after, 'cell-state'), cb = samplesOf(before, 'cell-state');
  const ra = sumByLabel(ca, 'tessera_commit_conflicts_total', 'reason'), rb = sumByLabel(cb, 'tessera_commit_conflicts_total', 'reason');
  const conflictsPerS: Record<string, number> = {};
  for (const [reason, v] of ra) conflictsPerS[reason] = rate(v, rb.get(reason));
  const delay = bucketDelta(histogramBuckets(sa, 'tessera_scheduler_job_delay_seconds'), histogramBuckets(sb, 'tessera_scheduler_job_delay_seconds'));
  const p99 = [...delay.values()].some((v) => v < 0) ? undefined : histogramQuantile(delay, 0.99);
  return {
    at: after.at,
    placementsPerS: rate(sumSamples(sa, 'tessera_scheduler_placements_total'), sumSamples(sb, 'tessera_scheduler_placements_total')),
    claimsPerS: rate(sumSamples(ca, 'tessera_commit_claims_total'), sumSamples(cb, 'tessera_commit_claims_total')),
    conflictsPerS,
    delayP99S: p99,
  };
}

export function schedulerPanels(s: Scrape, partitions: number): SchedulerPanel[] {
  return s.services.filter((x) => x.kind === 'scheduler').map((x) => {
    const samples = x.samples ?? [];
    const viewAgeS: (number | null)[] = Array.from({ length: partitions }, () => null);
    let mode: string | undefined, effectiveMode: string | undefined;
    for (const m of samples) {
      if (m.name === 'tessera_scheduler_view_age_seconds') {
        const p = Number(m.labels.partition);
        if (Number.isInteger(p) && p >= 0 && p < partitions) viewAgeS[p] = m.value;
      } else if (m.name === 'tessera_scheduler_mode' && m.value === 1) mode = m.labels.mode;
      else if (m.name === 'tessera_scheduler_effective_mode' && m.value === 1) effectiveMode = m.labels.mode;
    }
    return { name: x.name, up: x.samples !== undefined, mode, effectiveMode, viewAgeS };
  });
}

/** The cell-state that says it leads (`tessera_cell_leader` 1), if any answered. */
export function leaderOf(s: Scrape): string | undefined {
  return s.services.find((x) => x.kind === 'cell-state' && sumSamples(x.samples ?? [], 'tessera_cell_leader') === 1)?.name;
}

/** Queues from `tessera_queue_allocated{queue,resource}` / `tessera_queue_pending_tasks{queue}` (DESIGN §11), when the cell has them. */
export function queuePanels(s: Scrape): QueuePanel[] {
  const byQueue = new Map<string, { allocated: Record<string, number>; pendingTasks?: number }>();
  const get = (q: string) => { let v = byQueue.get(q); if (v === undefined) byQueue.set(q, v = { allocated: {} }); return v; };
  for (const m of samplesOf(s, 'cell-state')) {
    if (m.name === 'tessera_queue_allocated' && m.labels.queue !== undefined && m.labels.resource !== undefined) get(m.labels.queue).allocated[m.labels.resource] = m.value;
    else if (m.name === 'tessera_queue_pending_tasks' && m.labels.queue !== undefined) get(m.labels.queue).pendingTasks = m.value;
  }
  return [...byQueue].map(([queue, v]) => ({ queue, ...v })).sort((a, b) => a.queue.localeCompare(b.queue));
}

export function nodesPanel(nodes: readonly NodeListing[], partitions: readonly PartitionListing[]): NodesPanel {
  const ids: string[] = [], partition: number[] = [], state: number[] = [], alloc: number[] = [];
  const sorted = [...nodes].sort((a, b) => a.partition - b.partition || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const n of sorted) {
    ids.push(n.id);
    partition.push(n.partition);
    const code = NODE_STATE_CODES.indexOf(n.state);
    state.push(code < 0 ? 0 : code);
    let max = 0;
    for (const [r, cap] of Object.entries(n.capacity)) if (cap > 0) max = Math.max(max, (n.allocated[r] ?? 0) / cap);
    alloc.push(Math.round(Math.min(1, max) * 100));
  }
  return { ids, partition, state, alloc, partitions };
}
