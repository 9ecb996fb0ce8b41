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
  /**
   * req/reply, agent → cell-state: register (or re-register) a batch of nodes. Agent subjects end
   * with the agent id, so the server's permissions can hold each agent to its own (DESIGN §13);
   * cell-state serves the `…All` wildcard and checks the message's `agent` against the subject's.
   */
  nodeRegister(agentId: string): string;
  /** req/reply, agent → cell-state: batched heartbeat with the tasks each node runs. */
  nodeHeartbeat(agentId: string): string;
  /** req/reply, agent → cell-state: batched task ends. */
  taskEnded(agentId: string): string;
  readonly nodeRegisterAll: string;
  readonly nodeHeartbeatAll: string;
  readonly taskEndedAll: string;
  /** pub, cell-state → one agent: assignments for its nodes. */
  assign(agentId: string): string;
  /** req/reply, scheduler → cell-state: partition sync (deltas or snapshots). */
  readonly sync: string;
  /** req/reply, scheduler → cell-state: a batch of transactions for the committer. */
  readonly commit: string;
  /**
   * JetStream subject of a tenant's job submissions (stream `jobsStream`): the last token is
   * `tenantToken(tenant)`, so a submitter's permissions name its tenant's subject only, and
   * cell-state and the schedulers drop a job whose `tenant` differs from its subject's.
   */
  jobsSubmit(tenant: string): string;
  /** Every tenant's submissions (the stream's subjects). */
  readonly jobsSubmitAll: string;
  /** req/reply, scheduler → cell-state: a job's outcome decided by a scheduler (unschedulable). */
  readonly jobOutcome: string;
  /** req/reply, CLI → cell-state: listings. */
  readonly queryJobs: string;
  readonly queryNodes: string;
  readonly queryPartitions: string;
  /** req/reply, CLI → cell-state: the queues listing (DESIGN §10). */
  readonly queryQueues: string;
  /** req/reply, CLI (admin) → cell-state: replace the queue file live (`tessera queues apply`). */
  readonly queuesApply: string;
  /** pub, CLI → schedulers: switch the placement mode live (also kept in the config bucket). */
  readonly controlMode: string;
  /** req/reply, CLI (admin) → cell-state: cordon, uncordon, drain nodes (DESIGN §12). */
  readonly nodeAdmin: string;
  /** req/reply, CLI → cell-state: why a job waits (`tessera explain`). */
  readonly queryExplain: string;
  /** Every subject cell-state serves with replies, agent subjects for `agentId` (for fuzz tests and diagnostics). */
  cellStateRequestSubjects(agentId: string): readonly string[];
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
    nodeRegister: (agentId: string) => `${p}.node.register.${agentToken(agentId)}`,
    nodeHeartbeat: (agentId: string) => `${p}.node.heartbeat.${agentToken(agentId)}`,
    taskEnded: (agentId: string) => `${p}.task.ended.${agentToken(agentId)}`,
    nodeRegisterAll: `${p}.node.register.*`,
    nodeHeartbeatAll: `${p}.node.heartbeat.*`,
    taskEndedAll: `${p}.task.ended.*`,
    assign: (agentId: string) => `${p}.assign.${agentId}`,
    sync: `${p}.sync`,
    commit: `${p}.commit`,
    jobsSubmit: (tenant: string) => `${p}.jobs.submit.${tenantToken(tenant)}`,
    jobsSubmitAll: `${p}.jobs.submit.*`,
    jobOutcome: `${p}.job.outcome`,
    queryJobs: `${p}.query.jobs`,
    queryNodes: `${p}.query.nodes`,
    queryPartitions: `${p}.query.partitions`,
    queryQueues: `${p}.query.queues`,
    queuesApply: `${p}.queues.apply`,
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
    cellStateRequestSubjects: (agentId: string) => [
      s.nodeRegister(agentId), s.nodeHeartbeat(agentId), s.taskEnded(agentId), s.sync, s.commit, s.jobOutcome, s.queryJobs, s.queryNodes, s.queryPartitions, s.nodeAdmin, s.queryExplain,
      s.queryQueues, s.queuesApply,
    ],
  };
}

/** Agent ids appear in subjects: keep them to safe tokens. */
export const AGENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An agent id as a subject token; an id that is not one throws (it could widen a subject: `*`, `>`, `.`). */
export function agentToken(agentId: string): string {
  if (!AGENT_ID.test(agentId)) throw new RangeError(`bad agent id "${agentId}": use 1-64 of A-Z a-z 0-9 _ -`);
  return agentId;
}

const SAFE_TOKEN_CHAR = /[A-Za-z0-9_-]/;
const UTF8 = new TextEncoder();

/**
 * A tenant name as one subject token: A-Z a-z 0-9 _ - as they are, every other character as
 * `%XX` of its UTF-8 bytes (tenants come from traces, e.g. Google's base64 user hashes with `/`, `+`, `=`).
 * Injective, and never `.`, `*`, `>` or whitespace.
 */
export function tenantToken(tenant: string): string {
  let out = '';
  for (const ch of tenant) {
    if (SAFE_TOKEN_CHAR.test(ch)) out += ch;
    else for (const b of UTF8.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out === '') throw new RangeError('empty tenant');
  return out;
}

/** The last token of a subject (the agent id or tenant token of the subjects above). */
export function lastToken(subject: string): string {
  return subject.slice(subject.lastIndexOf('.') + 1);
}
