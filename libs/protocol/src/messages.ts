/**
 * Every message schema on the bus. Wire shapes are plain data (resource vectors as number arrays
 * in the order of the cell's resource names, carried alongside so a mismatch is detected).
 * Each schema is bounded (ids, arrays, strings) so an oversized or hostile message is refused.
 */
import { z } from 'zod';
import { CONSTRAINT_OPS, NODE_CONDITIONS, TXN_KINDS, type NodeCondition } from '@tessera/core';
import { wireQueueUsage } from './queues.ts';
import { AGENT_ID } from './subjects.ts';

const MAX_BATCH = 20_000;
export const id = z.string().min(1).max(400);
const agentId = z.string().regex(AGENT_ID, 'agent ids are 1-64 of A-Z a-z 0-9 _ -');
const amount = z.number().finite().nonnegative();
export const resourceNames = z.array(z.string().min(1).max(64)).min(1).max(64);
const resourceArray = z.array(amount).max(64);
const resourceRecord = z.record(z.string().max(64), z.number());
const labels = z.record(z.string().max(200), z.string().max(400)).refine((l) => Object.keys(l).length <= 64, 'at most 64 labels');
const constraint = z.object({ label: z.string().min(1).max(200), op: z.enum(CONSTRAINT_OPS as [string, ...string[]]), values: z.array(z.string().max(200)).max(1000).optional() });
const nodeCondition = z.enum(NODE_CONDITIONS as [NodeCondition, ...NodeCondition[]]);
const version = z.number().int().nonnegative();
/** GPU device indexes of a node (DESIGN §12). */
const gpuDevices = z.array(z.number().int().nonnegative()).max(64);

export const wireNode = z.object({
  id,
  partition: z.number().int().nonnegative(),
  labels,
  capacity: resourceArray,
  allocated: resourceArray,
  /** Allocated milli per GPU device (DESIGN §12); absent for a node without devices. */
  gpus: resourceArray.optional(),
  condition: nodeCondition,
  version,
  /** The node's tasks, when the sync asked for them (preemption). */
  tasks: z.array(z.object({
    taskId: id, jobId: id, demand: resourceArray, priority: z.number().int(), queue: z.string().max(400), preemptible: z.boolean(), startedAt: z.number().finite(),
    /** A task of a gang job (never a victim: the rest of the gang would run without it). */
    gang: z.boolean().optional(),
  })).max(MAX_BATCH).optional(),
});
export type WireNode = z.output<typeof wireNode>;

// ---- node agent ↔ cell-state -------------------------------------------------------------
export const registerRequest = z.object({
  agent: agentId,
  nodes: z.array(z.object({ id, labels, capacity: resourceRecord })).min(1).max(MAX_BATCH),
});
export type RegisterRequest = z.output<typeof registerRequest>;
export const registerReply = z.object({ ok: z.literal(true), registered: z.number().int() });
export type RegisterReply = z.output<typeof registerReply>;

export const heartbeatRequest = z.object({
  agent: agentId,
  /** Every node the agent hosts, with the tasks running on it. */
  nodes: z.array(z.object({ id, tasks: z.array(id).max(MAX_BATCH) })).min(1).max(MAX_BATCH),
});
export type HeartbeatRequest = z.output<typeof heartbeatRequest>;
export const heartbeatReply = z.object({
  ok: z.literal(true),
  /** Nodes the cell does not know (e.g. after a reset): the agent registers them again. */
  unknownNodes: z.array(id),
  /** Tasks running that the cell has no allocation for: the agent stops them. */
  stopTasks: z.array(id),
  /** Allocations the cell expects on these nodes that the agent did not report: sent again. */
  missing: z.array(z.lazy(() => assignment)),
});
export type HeartbeatReply = z.output<typeof heartbeatReply>;

export const assignment = z.object({
  taskId: id,
  jobId: id,
  nodeId: id,
  resources: resourceRecord,
  /** The GPU devices the task holds on its node (the exec driver sets CUDA_VISIBLE_DEVICES). */
  devices: gpuDevices.optional(),
  durationS: z.number().finite().nonnegative().optional(),
  command: z.array(z.string().max(10_000)).max(1000).optional(),
});
export type Assignment = z.output<typeof assignment>;
export const assignMessage = z.object({ assignments: z.array(assignment).min(1).max(MAX_BATCH) });
export type AssignMessage = z.output<typeof assignMessage>;

export const TASK_OUTCOMES = ['succeeded', 'failed'] as const;
export const taskEndedRequest = z.object({
  agent: agentId,
  tasks: z
    .array(z.object({ taskId: id, nodeId: id, outcome: z.enum(TASK_OUTCOMES), exitCode: z.number().int().optional(), reason: z.string().max(2000).optional() }))
    .min(1)
    .max(MAX_BATCH),
});
export type TaskEndedRequest = z.output<typeof taskEndedRequest>;
export const taskEndedReply = z.object({ ok: z.literal(true), released: z.number().int() });
export type TaskEndedReply = z.output<typeof taskEndedReply>;

// ---- scheduler ↔ cell-state --------------------------------------------------------------
export const syncRequest = z.object({
  resources: resourceNames,
  requests: z.array(z.object({ partition: z.number().int().nonnegative(), since: z.number().int().min(-1) })).min(1).max(4096),
  /** Also send each node's running tasks (for preemption; costs bytes, so only on request). */
  tasks: z.boolean().optional(),
});
export type SyncRequest = z.output<typeof syncRequest>;
export const wirePartitionSync = z.object({ partition: z.number().int().nonnegative(), version, kind: z.enum(['delta', 'snapshot']), nodes: z.array(wireNode) });
export type WirePartitionSync = z.output<typeof wirePartitionSync>;
export const syncReply = z.object({
  ok: z.literal(true), partitions: z.number().int().positive(), syncs: z.array(wirePartitionSync),
  /** The committer's queue usage (DESIGN §10), for DRF ordering on every replica; absent from older cell-states. */
  queues: wireQueueUsage.optional(),
});
export type SyncReply = z.output<typeof syncReply>;

const ruleLabel = z.string().min(1).max(200);
const wireJobRule = z.object({ job: id, label: ruleLabel });
/** A task group's placement rules (DESIGN §12), as core's PlacementRules. */
export const wirePlacementRules = z.object({
  spread: z.object({ label: ruleLabel, maxSkew: z.number().int().min(1) }).optional(),
  distinct: z.object({ label: ruleLabel, limit: z.number().int().min(1) }).optional(),
  affinity: z.array(wireJobRule).max(20).optional(),
  antiAffinity: z.array(wireJobRule).max(20).optional(),
});
export const wireClaim = z.object({
  taskId: id, jobId: id, nodeId: id, demand: resourceArray, seenVersion: version, devices: gpuDevices.optional(), constraints: z.array(constraint).max(100).optional(),
  queue: z.string().min(1).max(600).optional(), preemptible: z.boolean().optional(), rules: wirePlacementRules.optional(),
});
export type WireClaim = z.output<typeof wireClaim>;
export const wireEviction = z.object({ taskId: id, nodeId: id });
export type WireEviction = z.output<typeof wireEviction>;
export const wireTransaction = z.object({
  id,
  schedulerId: z.string().min(1).max(200),
  kind: z.enum(TXN_KINDS as ['incremental', 'all-or-nothing']),
  claims: z.array(wireClaim).min(1).max(MAX_BATCH),
  /** Tasks to stop to make room for the claims (DESIGN §11); absent when none. */
  evictions: z.array(wireEviction).max(MAX_BATCH).optional(),
});
export type WireTransaction = z.output<typeof wireTransaction>;
export const commitRequest = z.object({ resources: resourceNames, txns: z.array(wireTransaction).min(1).max(4096) });
export type CommitRequest = z.output<typeof commitRequest>;
export const wireTxnResult = z.object({
  txnId: id,
  committed: z.array(id),
  rejected: z.array(z.object({ taskId: id, nodeId: id, reason: z.string() })),
  nodes: z.array(wireNode),
  seq: z.number().int(),
  replayed: z.boolean().optional(),
  /** Task ids the transaction evicted; absent when none. */
  evicted: z.array(id).optional(),
});
export type WireTxnResult = z.output<typeof wireTxnResult>;
export const commitReply = z.object({ ok: z.literal(true), results: z.array(wireTxnResult) });
export type CommitReply = z.output<typeof commitReply>;

// ---- jobs --------------------------------------------------------------------------------
/** What `tessera submit` publishes to the jobs stream; the spec is validated again by its readers. */
export const jobSubmission = z.object({
  job: z.record(z.string(), z.unknown()),
  submittedAt: z.number().finite(),
  /**
   * Set when cell-state hands a job back for rescheduling (its node was lost): only these task
   * ids remain to place; the others are placed or ended. Absent on a first submission (all tasks).
   */
  tasks: z.array(id).max(200_000).optional(),
  /** Hand-back count of the job (1 for the first hand-back); absent on a first submission. */
  attempt: z.number().int().nonnegative().optional(),
  /** A restart's backoff: not placed before this time (ms since the epoch). */
  notBefore: z.number().finite().optional(),
});
export type JobSubmission = z.output<typeof jobSubmission>;

/** Jobs in one jobs-stream message at most (see job-batch.ts). */
export const MAX_JOBS_PER_MESSAGE = 1_000;
/**
 * Many first submissions in one jobs-stream message, all submitted at `submittedAt`: one
 * JetStream publish, store, delivery and ack for up to MAX_JOBS_PER_MESSAGE jobs. Readers take
 * both this and a single `jobSubmission` (hand-backs and older clients publish those).
 */
export const jobBatch = z.object({
  jobs: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_JOBS_PER_MESSAGE),
  submittedAt: z.number().finite(),
});
export type JobBatch = z.output<typeof jobBatch>;

export const JOB_OUTCOMES = ['unschedulable', 'failed'] as const;
export const jobOutcomeRequest = z.object({ jobId: id, schedulerId: z.string().min(1).max(200), state: z.enum(JOB_OUTCOMES), reason: z.string().min(1).max(4000) });
export type JobOutcomeRequest = z.output<typeof jobOutcomeRequest>;
export const okReply = z.object({ ok: z.literal(true) });

// ---- listings (DESIGN §7 shapes) ---------------------------------------------------------
export const JOB_STATES = ['pending', 'placed', 'running', 'finished', 'failed', 'unschedulable'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TASK_STATES = ['pending', 'placed', 'running', 'finished', 'failed'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const listingRequest = z.object({
  offset: z.number().int().nonnegative().default(0),
  limit: z.number().int().positive().max(10_000).default(1000),
  ids: z.array(id).max(10_000).optional(),
  /** Jobs only: each job's tasks from this index (default 0)… */
  taskOffset: z.number().int().nonnegative().optional(),
  /** …at most this many (default all; 0 = none, with `taskStates` still counted). Pages a job too big for one message. */
  taskLimit: z.number().int().nonnegative().optional(),
});
export type ListingRequest = z.output<typeof listingRequest>;

export const jobListing = z.object({
  id,
  tenant: z.string(),
  state: z.enum(JOB_STATES),
  reason: z.string().optional(),
  submittedAt: z.number().optional(),
  placedAt: z.number().optional(),
  tasks: z.array(z.object({
    id, name: z.string(), state: z.enum(TASK_STATES), node: z.string().optional(),
    /** DESIGN §11: restarts used, times evicted, the last failure, and why it is pending (`preempted`). */
    restarts: z.number().int().optional(), preemptions: z.number().int().optional(), lastFailure: z.string().optional(), reason: z.string().optional(),
  })),
  /** All the job's tasks (`tasks` may be one window of them: see `taskOffset`/`taskLimit`). */
  taskTotal: z.number().int().optional(),
  /** Tasks per state, over all the job's tasks. */
  taskStates: z.record(z.number()).optional(),
});
export type JobListing = z.output<typeof jobListing>;
export const nodeListing = z.object({
  id,
  partition: z.number().int(),
  state: nodeCondition,
  labels,
  capacity: resourceRecord,
  allocated: resourceRecord,
  version,
  /** Per GPU device: its index and the milli allocated on it (DESIGN §12); absent for a node without devices. */
  gpus: z.array(z.object({ index: z.number().int().nonnegative(), allocated_milli: z.number() })).optional(),
  /** The node's `gpu_model` label, when it has one. */
  gpu_model: z.string().optional(),
});
export type NodeListing = z.output<typeof nodeListing>;
export const partitionListing = z.object({ id: z.number().int(), version, nodes: z.number().int(), ready: z.number().int(), allocated_ratio: resourceRecord });
export type PartitionListing = z.output<typeof partitionListing>;

export const jobsListingReply = z.object({ ok: z.literal(true), total: z.number().int(), items: z.array(jobListing) });
export const nodesListingReply = z.object({ ok: z.literal(true), total: z.number().int(), items: z.array(nodeListing) });
export const partitionsListingReply = z.object({ ok: z.literal(true), total: z.number().int(), items: z.array(partitionListing) });

// ---- control -----------------------------------------------------------------------------
export const PLACEMENT_MODE_NAMES = ['latency-first', 'quality-first', 'adaptive', 'state-sync'] as const;
export const modeControl = z.object({ mode: z.enum(PLACEMENT_MODE_NAMES) });
export type ModeControl = z.output<typeof modeControl>;
