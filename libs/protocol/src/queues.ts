/**
 * Queue messages (DESIGN §10): the live queue file (`tessera queues apply`), the queues listing,
 * and the committer's queue usage shipped to every replica with its sync replies (so every
 * replica orders by the same numbers).
 */
import { z } from 'zod';
const resourceNames = z.array(z.string().min(1).max(64)).min(1).max(64);

const amount = z.number().nonnegative();
const resourceRecord = z.record(z.string().max(64), z.number());

/** Queue usage as shipped to replicas: inner queues included, vectors in the order of `resources`. */
export const wireQueueUsage = z.object({
  /** Cell capacity over ready nodes. */
  capacity: z.array(amount).max(64),
  /** Non-preemptible allocation per queue path (inner queues included). */
  allocated: z.record(z.string().max(600), z.array(amount).max(64)),
  /** Bumped on every `queues apply`: a replica re-reads `file` only when it changed. */
  version: z.number().int().nonnegative(),
  /** The queue file in force (validated by cell-state); absent: none applied. */
  file: z.record(z.string(), z.unknown()).optional(),
});
export type WireQueueUsage = z.output<typeof wireQueueUsage>;

/** `tessera queues apply FILE`: the file's content (already parsed from YAML/JSON by the CLI). */
export const queuesApplyRequest = z.object({ file: z.unknown() });
export type QueuesApplyRequest = z.output<typeof queuesApplyRequest>;
/** Refused whole: the path of the bad field and why (the error reply carries the same text). */
export const queuesApplyReply = z.object({ ok: z.literal(true), queues: z.number().int(), version: z.number().int() });

export const queueListing = z.object({
  /** Dotted path. */
  name: z.string(),
  parent: z.string().nullable(),
  weight: z.number(),
  guaranteed: resourceRecord,
  /** Absent max = the cell's capacity. */
  max: resourceRecord,
  allocated: resourceRecord,
  dominant_share: z.number(),
  pending_jobs: z.number().int(),
  pending_tasks: z.number().int(),
  running_tasks: z.number().int(),
});
export type QueueListing = z.output<typeof queueListing>;
/** No fields: anything else is refused with a typed error (DESIGN §5.6). */
export const queuesListingRequest = z.object({}).strict();
export const queuesListingReply = z.object({ ok: z.literal(true), resources: resourceNames, items: z.array(queueListing) });
export type QueuesListingReply = z.output<typeof queuesListingReply>;
