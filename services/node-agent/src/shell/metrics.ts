/** The agent's Prometheus metrics (DESIGN §7 prefix `tessera_`). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function agentMetrics(registry: Registry) {
  return {
    nodes: new Gauge({ name: 'tessera_agent_nodes', help: 'Nodes hosted by this agent', registers: [registry] }),
    nodesRegistered: new Gauge({ name: 'tessera_agent_nodes_registered', help: 'Nodes the cell acknowledged', registers: [registry] }),
    tasksRunning: new Gauge({ name: 'tessera_agent_tasks_running', help: 'Tasks running now', registers: [registry] }),
    tasksTotal: new Counter({ name: 'tessera_agent_tasks_total', help: 'Tasks that ended, by outcome (succeeded, failed, stopped)', labelNames: ['outcome'], registers: [registry] }),
    tasksStarted: new Counter({ name: 'tessera_agent_tasks_started_total', help: 'Tasks started', registers: [registry] }),
    refused: new Counter({ name: 'tessera_agent_assignments_refused_total', help: 'Assignments or assign messages refused, by reason', labelNames: ['reason'], registers: [registry] }),
    pendingReports: new Gauge({ name: 'tessera_agent_task_end_reports_pending', help: 'Task ends not yet acknowledged by the cell', registers: [registry] }),
    requestErrors: new Counter({ name: 'tessera_agent_request_errors_total', help: 'Failed requests to the cell, by kind', labelNames: ['kind'], registers: [registry] }),
    heartbeatSeconds: new Histogram({ name: 'tessera_agent_heartbeat_seconds', help: 'Duration of one heartbeat round (all batches)', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
  };
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;
