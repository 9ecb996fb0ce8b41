/**
 * Every NATS subject, stream, consumer and bucket name tessera uses, in one place.
 * All names are scoped by the cell name so several cells can share one NATS deployment.
 */

const CELL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function assertCellName(cell: string): string {
  if (!CELL_NAME.test(cell)) throw new RangeError(`bad cell name "${cell}": use 1-64 of A-Z a-z 0-9 _ -`);
  return cell;
}

export interface Subjects {
  readonly cell: string;
  /** req/reply, agent → cell-state: register (or re-register) a batch of nodes. */
  readonly nodeRegister: string;
  /** req/reply, agent → cell-state: batched heartbeat with the tasks each node runs. */
  readonly nodeHeartbeat: string;
  /** req/reply, agent → cell-state: batched task ends. */
  readonly taskEnded: string;
  /** pub, cell-state → one agent: assignments for its nodes. */
  assign(agentId: string): string;
  /** req/reply, scheduler → cell-state: partition sync (deltas or snapshots). */
  readonly sync: string;
  /** req/reply, scheduler → cell-state: a batch of transactions for the committer. */
  readonly commit: string;
  /** JetStream subject of job submissions (stream `jobsStream`). */
  readonly jobsSubmit: string;
  /** req/reply, scheduler → cell-state: a job's outcome decided by a scheduler (unschedulable). */
  readonly jobOutcome: string;
  /** req/reply, CLI → cell-state: listings. */
  readonly queryJobs: string;
  readonly queryNodes: string;
  readonly queryPartitions: string;
  /** pub, CLI → schedulers: switch the placement mode live (also kept in the config bucket). */
  readonly controlMode: string;
  /** req/reply, CLI (admin) → cell-state: cordon, uncordon, drain nodes (DESIGN §12). */
  readonly nodeAdmin: string;
  /** req/reply, CLI → cell-state: why a job waits (`tessera explain`). */
  readonly queryExplain: string;
  /** Every subject cell-state serves with replies (for fuzz tests and diagnostics). */
  readonly cellStateRequestSubjects: readonly string[];
  /** JetStream names. */
  readonly jobsStream: string;
  readonly jobsConsumer: string;
  readonly jobsCellStateConsumer: string;
  readonly commitLogStream: string;
  readonly commitLogSubject: string;
  readonly snapshotBucket: string;
  readonly configBucket: string;
  readonly leaderBucket: string;
}

export function subjectsFor(cell = 'default'): Subjects {
  assertCellName(cell);
  const p = `tessera.${cell}`;
  const s = {
    cell,
    nodeRegister: `${p}.node.register`,
    nodeHeartbeat: `${p}.node.heartbeat`,
    taskEnded: `${p}.task.ended`,
    assign: (agentId: string) => `${p}.assign.${agentId}`,
    sync: `${p}.sync`,
    commit: `${p}.commit`,
    jobsSubmit: `${p}.jobs.submit`,
    jobOutcome: `${p}.job.outcome`,
    queryJobs: `${p}.query.jobs`,
    queryNodes: `${p}.query.nodes`,
    queryPartitions: `${p}.query.partitions`,
    controlMode: `${p}.control.mode`,
    nodeAdmin: `${p}.admin.node`,
    queryExplain: `${p}.query.explain`,
    jobsStream: `TESSERA_${cell.toUpperCase().replace(/-/g, '_')}_JOBS`,
    jobsConsumer: 'schedulers',
    jobsCellStateConsumer: 'cell-state',
    commitLogStream: `TESSERA_${cell.toUpperCase().replace(/-/g, '_')}_COMMITS`,
    commitLogSubject: `${p}.log.commits`,
    snapshotBucket: `tessera_${cell}_snapshots`,
    configBucket: `tessera_${cell}_config`,
    leaderBucket: `tessera_${cell}_leader`,
  };
  return {
    ...s,
    cellStateRequestSubjects: [s.nodeRegister, s.nodeHeartbeat, s.taskEnded, s.sync, s.commit, s.jobOutcome, s.queryJobs, s.queryNodes, s.queryPartitions, s.nodeAdmin, s.queryExplain],
  };
}

/** Agent ids appear in subjects: keep them to safe tokens. */
export const AGENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
