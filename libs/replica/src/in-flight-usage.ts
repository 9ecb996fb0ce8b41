/**
 * The committer's queue usage plus this replica's own work on top of it, for ordering (DRF) and
 * quota hold-backs between usage updates. Without it, every job a replica starts before the next
 * update is ordered by the same numbers, so a burst of starts all goes to the queue that looked
 * furthest behind, and the shares overshoot until the update lands.
 *
 * A job's demand counts from its start until the committer's usage has surely included it: usage
 * arrives with sync replies, so a finished job's demand stays until two updates later (a reply to
 * a request sent before the commit may not have it yet). The simulator, whose usage is exact,
 * keeps its own in-flight map and shares only {@link withExtraUsage}.
 */
import { addQueueUsage, type ResourceVector } from '@tessera/core';
import type { QueueUsage } from './job-queue.ts';

/** `base` with `extra` (per queue path, prefixes included, as addQueueUsage keeps it) added. */
export function withExtraUsage(base: QueueUsage, extra: ReadonlyMap<string, ResourceVector>): QueueUsage {
  if (extra.size === 0) return base;
  const allocated = new Map<string, ResourceVector>();
  for (const [q, v] of base.allocated) allocated.set(q, v);
  for (const [q, v] of extra) {
    let any = false;
    for (let k = 0; k < v.length; k++) if (v[k] !== 0) { any = true; break; }
    if (!any) continue;
    const o = allocated.get(q);
    if (o === undefined) allocated.set(q, Float64Array.from(v));
    else {
      const sum = Float64Array.from(o);
      for (let k = 0; k < sum.length; k++) sum[k] += v[k];
      allocated.set(q, sum);
    }
  }
  return { ...base, allocated };
}

interface Landed {
  readonly queue: string;
  readonly demand: ResourceVector;
  /** Usage updates seen when it finished. */
  readonly at: number;
}

export class InFlightUsage {
  private readonly extra = new Map<string, ResourceVector>();
  private landed: Landed[] = [];
  private updates = 0;

  /** A job of `queue` started that may claim `demand` (its non-preemptible tasks' total). */
  start(queue: string, demand: ResourceVector): void {
    addQueueUsage(this.extra, queue, demand);
  }

  /** The job ended its turn (placed, given up, parked or handed back): its demand leaves two usage updates later. */
  done(queue: string, demand: ResourceVector): void {
    this.landed.push({ queue, demand, at: this.updates });
  }

  /** A new usage arrived: demand of jobs that finished two updates ago is in it now. */
  onUpdate(): void {
    this.updates++;
    if (this.landed.length === 0) return;
    const keep: Landed[] = [];
    for (const l of this.landed) {
      if (this.updates - l.at >= 2) this.remove(l.queue, l.demand);
      else keep.push(l);
    }
    this.landed = keep;
  }

  /** `usage` with this replica's work on top (undefined stays undefined: nothing to order by). */
  over(usage: QueueUsage | undefined): QueueUsage | undefined {
    return usage === undefined ? undefined : withExtraUsage(usage, this.extra);
  }

  private remove(queue: string, demand: ResourceVector): void {
    // Subtracting the same vector that was added keeps every path at exactly 0 when all are out.
    addQueueUsage(this.extra, queue, demand.map((x) => -x));
  }
}
