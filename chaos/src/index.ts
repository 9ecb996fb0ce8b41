/** @tessera/chaos: the chaos driver's pieces (the audit is reused by the NATS-cluster test). */
export { LogAudit, auditJobs, type AuditOptions, type Duplicate, type Overcommit, type JobAudit, type LostJob } from './audit.ts';
export { AgentReports, type ConcurrentRun, type Interval } from './agent-reports.ts';
export { planKills, KILL_KINDS, KillPlanError, type KillKind, type PlannedKill, type KillPlanOptions } from './schedule.ts';
export { recoveryAfter, firstAfter, quantile, type Recovery } from './recovery.ts';
export { cappedCounts } from '@tessera/workloads';
export { asFiller, FILLER_DURATION_FACTOR, chaosJob, jobWork, meanJobWork, meanTasksPerJob, jobRateFor, utilisationAt, DEFAULT_WORKLOAD, type ChaosWorkloadOptions } from './workload.ts';
export { parseChaosArgs, ChaosUsageError, USAGE, type ChaosOptions } from './options.ts';
export { summarize, humanSummary, type ChaosSummary, type ChaosFacts, type KillRecord } from './report.ts';
export { readWholeStream, StreamReadError } from './streams.ts';
export { LoadGenerator, type LoadOptions } from './load.ts';
export { ChaosCell, type ChaosCellOptions } from './cell.ts';
export { Observers } from './observers.ts';
