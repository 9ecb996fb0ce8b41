/** The scheduler's Prometheus metrics (DESIGN §7 names), registered on the service's registry. */
import { PLACEMENT_MODES, type PlacementMode } from '@tessera/policy';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const JOB_OUTCOME_LABELS = ['placed', 'unschedulable', 'failed', 'requeued'] as const;
export type JobOutcomeLabel = (typeof JOB_OUTCOME_LABELS)[number];

export interface SchedulerMetrics {
  readonly placements: Counter;
  readonly retries: Counter<'cause'>;
  readonly jobDelay: Histogram;
  readonly staleness: Histogram;
  readonly syncSeconds: Histogram;
  readonly syncBytes: Counter;
  readonly conflicts: Counter<'reason'>;
  readonly mode: Gauge<'mode'>;
  readonly effectiveMode: Gauge<'mode'>;
  readonly jobs: Counter<'outcome'>;
  readonly commitSeconds: Histogram;
  readonly commitBatchClaims: Histogram;
  readonly commitBatchTxns: Histogram;
  readonly commitResends: Counter<'cause'>;
  readonly syncFailures: Counter<'cause'>;
  readonly viewRefreshes: Counter;
  readonly refused: Counter<'what'>;
  readonly jobsInFlight: Gauge;
  readonly viewNodes: Gauge;
  readonly admissionWindow: Gauge;
  readonly backlogJobs: Gauge;
  readonly oldestPendingSeconds: Gauge;
  readonly badNodes: Gauge;
  readonly badNodesMarked: Counter;
  setMode(mode: PlacementMode, effective: string): void;
}

export function createSchedulerMetrics(registry: Registry): SchedulerMetrics {
  const registers = [registry];
  const m: SchedulerMetrics = {
    placements: new Counter({ name: 'tessera_scheduler_placements_total', help: 'Tasks this replica placed and the committer accepted', registers }),
    retries: new Counter({
      name: 'tessera_scheduler_retries_total',
      help: 'Tasks proposed again: conflict (the committer refused the claim) or no_room (the previous round found no feasible node)',
      labelNames: ['cause'],
      registers,
    }),
    jobDelay: new Histogram({
      name: 'tessera_scheduler_job_delay_seconds',
      help: 'Scheduling delay of a job: submission to all its tasks committed',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30, 60, 120],
      registers,
    }),
    staleness: new Histogram({
      name: 'tessera_scheduler_partition_staleness_seconds',
      help: 'Age of the view behind each chosen node at placement (time since its partition was synced)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    syncSeconds: new Histogram({
      name: 'tessera_scheduler_sync_seconds',
      help: 'Duration of one partition sync request (request to view updated)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    syncBytes: new Counter({ name: 'tessera_scheduler_sync_bytes_total', help: 'Bytes of partition sync replies received', registers }),
    conflicts: new Counter({
      name: 'tessera_scheduler_conflicts_total',
      help: 'Claims of this replica the committer refused, by reason',
      labelNames: ['reason'],
      registers,
    }),
    mode: new Gauge({ name: 'tessera_scheduler_mode', help: 'Configured placement mode (1 for the active one)', labelNames: ['mode'], registers }),
    effectiveMode: new Gauge({
      name: 'tessera_scheduler_effective_mode',
      help: 'Mode placement runs in now (adaptive resolved to quality-first or latency-first)',
      labelNames: ['mode'],
      registers,
    }),
    jobs: new Counter({
      name: 'tessera_scheduler_jobs_total',
      help: 'Jobs this replica finished, by outcome (requeued: handed back to the stream unfinished)',
      labelNames: ['outcome'],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'tessera_scheduler_commit_seconds',
      help: 'Round trip of one commit request (several transactions)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    commitBatchClaims: new Histogram({
      name: 'tessera_scheduler_commit_batch_claims',
      help: 'Claims per commit request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000],
      registers,
    }),
    commitBatchTxns: new Histogram({
      name: 'tessera_scheduler_commit_batch_transactions',
      help: 'Transactions per commit request',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 4096],
      registers,
    }),
    commitResends: new Counter({
      name: 'tessera_scheduler_commit_resends_total',
      help: 'Commit requests sent again, by why the attempt failed: timeout (no answer within the attempt timeout), reconnected (NATS reconnected while it was out), refused (no responders, unavailable, not leader)',
      labelNames: ['cause'],
      registers,
    }),
    syncFailures: new Counter({
      name: 'tessera_scheduler_sync_failures_total',
      help: 'Sync requests that failed (timeout, reconnected, refused); the loop goes on with the next round',
      labelNames: ['cause'],
      registers,
    }),
    viewRefreshes: new Counter({
      name: 'tessera_scheduler_view_refreshes_total',
      help: 'Partitions fetched out of the sync plan because the committer refused claims on them (before the job retries)',
      registers,
    }),
    refused: new Counter({
      name: 'tessera_scheduler_refused_messages_total',
      help: 'Messages refused because they did not decode or validate, by kind',
      labelNames: ['what'],
      registers,
    }),
    jobsInFlight: new Gauge({ name: 'tessera_scheduler_jobs_in_flight', help: 'Jobs taken from the stream and not yet finished', registers }),
    viewNodes: new Gauge({ name: 'tessera_scheduler_view_nodes', help: 'Nodes in this replica\'s view', registers }),
    admissionWindow: new Gauge({
      name: 'tessera_scheduler_admission_window_jobs',
      help: 'Jobs this replica may hold at once now (admission control: halves while proposals are refused, grows per clean job)',
      registers,
    }),
    backlogJobs: new Gauge({
      name: 'tessera_scheduler_backlog_jobs',
      help: 'Jobs-stream messages (a job each, or a batch of jobs) waiting for the schedulers: not yet delivered, plus delivered and not yet acknowledged',
      registers,
    }),
    oldestPendingSeconds: new Gauge({
      name: 'tessera_scheduler_oldest_pending_seconds',
      help: 'Age (s) of the oldest jobs-stream message the schedulers have not acknowledged yet (0: none)',
      registers,
    }),
    badNodes: new Gauge({
      name: 'tessera_scheduler_bad_nodes',
      help: 'Nodes this replica holds ineligible now because the committer kept refusing its claims on them',
      registers,
    }),
    badNodesMarked: new Counter({
      name: 'tessera_scheduler_bad_nodes_marked_total',
      help: 'Times a node was marked ineligible for a while after repeated refused claims',
      registers,
    }),
    setMode(mode, effective) {
      for (const x of PLACEMENT_MODES) m.mode.set({ mode: x }, x === mode ? 1 : 0);
      for (const x of PLACEMENT_MODES) if (x !== 'adaptive') m.effectiveMode.set({ mode: x }, x === effective ? 1 : 0);
    },
  };
  for (const o of JOB_OUTCOME_LABELS) m.jobs.inc({ outcome: o }, 0);
  for (const c of ['conflict', 'no_room']) m.retries.inc({ cause: c }, 0);
  for (const c of ['timeout', 'reconnected', 'refused']) {
    m.commitResends.inc({ cause: c }, 0);
    m.syncFailures.inc({ cause: c }, 0);
  }
  return m;
}
