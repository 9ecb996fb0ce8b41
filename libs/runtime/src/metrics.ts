/** A per-service Prometheus registry with process metrics, labelled by service. */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(service: string, labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, ...labels });
  collectDefaultMetrics({ register: registry, prefix: 'tessera_process_' });
  return registry;
}
