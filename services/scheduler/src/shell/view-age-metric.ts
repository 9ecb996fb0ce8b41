/**
 * `tessera_scheduler_view_age_seconds{partition}`: how old this replica's copy of each partition is
 * now (time since it was last synced). The placement-time histogram
 * (`tessera_scheduler_partition_staleness_seconds`) says how stale the chosen nodes were; this gauge
 * is the scheduler × partition matrix the console and the Grafana dashboard draw, and what the
 * staleness-over-budget alert reads. Computed at scrape time from the view; never-synced partitions
 * are left out.
 */
import { Gauge, type Registry } from 'prom-client';
import type { SchedulerView } from '@tessera/core';

export function registerViewAgeGauge(registry: Registry, view: () => SchedulerView | undefined, now: () => number = Date.now): void {
  new Gauge({
    name: 'tessera_scheduler_view_age_seconds', registers: [registry], labelNames: ['partition'],
    help: 'Age of this replica\'s copy of each partition now (time since its last sync)',
    collect() {
      this.reset();
      const v = view();
      if (v === undefined) return;
      const t = now();
      for (const p of v.partitions) if (Number.isFinite(p.syncedAt)) this.set({ partition: String(p.id) }, Math.max(0, t - p.syncedAt) / 1000);
    },
  });
}
