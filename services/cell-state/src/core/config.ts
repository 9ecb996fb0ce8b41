/**
 * The cell-state's flags, compiled once at start-up (`compileConfig(cellStateFlags, argv)`).
 * Unknown flags are refused so a typo never silently falls back to a default.
 */
import { z } from 'zod';
import { natsAuthFlag } from '@tessera/runtime';
import { DEFAULT_RESOURCE_NAMES, GRANULARITIES, type Granularity } from '@tessera/core';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A boolean flag: bare `--x`, `--x true|false`. */
const flag = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');

export const cellStateFlags = z
  .object({
    /** NATS server URL(s), comma separated. */
    nats: z.string({ required_error: 'required (e.g. --nats nats://127.0.0.1:4222)' }).min(1).transform((s) => s.split(',').map((u) => u.trim()).filter((u) => u !== '')),
    /** NATS credentials file (`tessera auth show`'s fields: user, pass, inboxPrefix, ca); none: connect without. */
    natsAuth: natsAuthFlag,
    cell: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1-64 of A-Z a-z 0-9 _ -').default('default'),
    httpPort: z.coerce.number().int().min(0).max(65_535).default(0),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /** The ResourceSpace, in order; must match every other service of the cell. */
    resources: z.string().default(DEFAULT_RESOURCE_NAMES.join(',')).transform((s) => s.split(',').map((r) => r.trim())),
    partitions: z.coerce.number().int().min(1).max(65_536).default(16),
    /** JetStream replicas of the streams this service creates (1 locally; 3 on a 3-node NATS cluster). */
    replicas: z.coerce.number().int().min(1).max(5).default(1),
    conflict: z.enum(GRANULARITIES as [Granularity, ...Granularity[]]).default('fine'),
    /** Group-commit window: the first request of a batch waits at most this long for company. */
    batchMs: z.coerce.number().min(0).max(1_000).default(2),
    /** A batch is flushed as soon as it holds this many transactions. */
    batchMaxTxns: z.coerce.number().int().min(1).max(100_000).default(2_048),
    /** A node not heard from for this long is marked `lost` and its tasks are handed back. */
    heartbeatTimeoutMs: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
    /** A fresh allocation is not reported `missing` to its agent before this long after assignment. */
    assignGraceMs: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
    /** Requests larger than this get a `too_large` error reply. */
    maxMessageBytes: z.coerce.number().int().min(1_024).max(64 * 1024 * 1024).default(8 * 1024 * 1024),
    /** Appends to the commit log wait this long for the JetStream ack before the batch is failed. */
    appendTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(5_000),
    /** Instance id (appears in log records and message ids). */
    id: z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'use 1-100 of A-Z a-z 0-9 _ . : -').optional(),
    /** The leader writes a snapshot after this many log entries since the last one (0: never by count). */
    snapshotEveryEntries: z.coerce.number().int().min(0).max(100_000_000).default(20_000),
    /** …and at this interval when the log moved on (0: never by time). Always on graceful shutdown. */
    snapshotIntervalMs: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
    /** Load the latest snapshot at start (`false`: always replay the whole log). */
    snapshotRestore: flag.default(true),
    /** Leader lease duration: a leader that could not renew for this long stops serving, a standby takes over. */
    leaseMs: z.coerce.number().int().min(200).max(600_000).default(1_500),
    /** The leader renews its lease this often (at most half the lease). */
    leaseRenewMs: z.coerce.number().int().min(20).max(300_000).default(400),
    /** A standby reads the lease this often. */
    standbyCheckMs: z.coerce.number().int().min(20).max(300_000).default(200),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.leaseRenewMs * 2 > c.leaseMs) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['leaseRenewMs'], message: `must be at most half of --lease-ms (${c.leaseMs})` });
    if (c.standbyCheckMs > c.leaseMs) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['standbyCheckMs'], message: `must be at most --lease-ms (${c.leaseMs})` });
  });

export type CellStateConfig = z.output<typeof cellStateFlags>;
