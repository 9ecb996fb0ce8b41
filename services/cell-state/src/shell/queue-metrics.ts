/**
 * Queue gauges (DESIGN §10/§11), computed from the model when scraped: allocated, guaranteed and
 * max per queue and resource, and pending tasks per queue. (`tessera_commit_conflicts_total{reason="quota"}`
 * is the commit counter's, like every conflict reason.)
 */
import { Gauge, type Registry } from 'prom-client';
import { listQueues } from '../core/queues.ts';
import type { CellModel } from '../core/model.ts';

export function createQueueMetrics(registry: Registry, model: CellModel): void {
  const registers = [registry];
  // One listing per scrape serves all four gauges (collect runs once per gauge, in order).
  let last: { at: number; items: ReturnType<typeof listQueues> } | undefined;
  const items = () => {
    const now = Date.now();
    if (last === undefined || now - last.at > 500) last = { at: now, items: listQueues(model) };
    return last.items;
  };
  const perResource = (name: string, help: string, pick: (q: ReturnType<typeof listQueues>[number]) => Record<string, number>) =>
    new Gauge({
      name, help, registers, labelNames: ['queue', 'resource'],
      collect() {
        this.reset();
        for (const q of items()) for (const [resource, v] of Object.entries(pick(q))) this.set({ queue: q.name, resource }, v);
      },
    });
  perResource('tessera_queue_allocated', 'Non-preemptible allocation of the queue (inner queues include their children)', (q) => q.allocated);
  perResource('tessera_queue_guaranteed', 'Guaranteed (min) quota of the queue', (q) => q.guaranteed);
  perResource('tessera_queue_max', 'Max quota of the queue (the cell capacity where the file sets none)', (q) => q.max);
  new Gauge({
    name: 'tessera_queue_pending_tasks', help: 'Tasks of the queue waiting to be placed', registers, labelNames: ['queue'],
    collect() {
      this.reset();
      for (const q of items()) this.set({ queue: q.name }, q.pending_tasks);
    },
  });
}
