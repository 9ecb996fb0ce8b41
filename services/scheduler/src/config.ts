/**
 * The scheduler's flags, compiled once at start-up (`compileConfig`) into a frozen object.
 * Nothing deeper in the service reads argv or process.env.
 */
import { hostname } from 'node:os';
import { DEFAULT_PREEMPTION_MIN_RUNTIME_S, DEFAULT_PREEMPTION_PRIORITY_GAP, DEFAULT_RESOURCE_NAMES, ResourceSpace } from '@tessera/core';
import { existsSync, readFileSync } from 'node:fs';
import {
  DEFAULT_PREEMPTION_MAX_PER_SECOND, PLACEMENT_MODES, PREEMPTION,
  PipelineSpecError, defaultRegistry, pipelineSpecFromText, scorerShorthand, type PipelineSpec, type PlacementMode,
} from '@tessera/policy';
import { QUEUE_ORDERS, VISIT_ORDERS, isValidSchedulerId, type QueueOrder, type VisitOrder } from '@tessera/replica';
import { z } from 'zod';
import { natsAuthFlag } from '@tessera/runtime';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A default replica id that is unique per process (ids are part of idempotency keys). */
export function defaultSchedulerId(index: number): string {
  const host = hostname().replace(/[^A-Za-z0-9_.@-]/g, '-').slice(0, 60) || 'host';
  return `s${index}-${host}-${process.pid}`;
}

export const schedulerFlags = z
  .object({
    nats: z.string({ required_error: 'is required (nats://host:port[,…])' }).min(1),
    /** NATS credentials file (`tessera auth show`'s fields: user, pass, inboxPrefix, ca); none: connect without. */
    natsAuth: natsAuthFlag,
    cell: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use 1-64 of A-Z a-z 0-9 _ -').default('default'),
    httpPort: int(0, 65535).default(0),
    logLevel: z.enum(LOG_LEVELS).default('info'),
    resources: z.string().default(DEFAULT_RESOURCE_NAMES.join(',')),
    id: z.string().refine(isValidSchedulerId, 'must be 1-100 characters of A-Z a-z 0-9 _ . @ - (no ":")').optional(),
    index: int(0, 10_000).default(0),
    count: int(1, 10_000).default(1),
    mode: z.enum(PLACEMENT_MODES as [PlacementMode, ...PlacementMode[]]).default('latency-first'),
    syncMs: z.coerce.number().finite().min(1).max(3_600_000).default(100),
    /** Shorthand for the default pipeline (default filters, this scorer, soft preferences). */
    scorer: z.string().refine((n) => defaultRegistry.hasScorer(n), { message: `must be a registered scorer (${defaultRegistry.scorerNames.join(', ')})` }).default('binpack'),
    /** The placement pipeline, JSON/YAML inline or a file: {filters?, scorers: [{name, weight?, args?}], postFilters?}; overrides --scorer. */
    pipeline: z.string().min(1).optional(),
    /** Order in which jobs taken from the stream are placed: arrival (fifo) or DRF across queues. */
    queueOrder: z.enum(QUEUE_ORDERS as [QueueOrder, ...QueueOrder[]]).default('fifo'),
    /** Jobs held beyond the working room for the queue order to choose among (default: 1024 with drf, 0 with fifo). */
    lookaheadJobs: int(0, 1_000_000).optional(),
    sampleSize: int(1, 1_000_000).default(16),
    /** How a placement walks nodes: seeded start and stride (default), or listed order with ties to the first listed node (reproducing FGD's runs). */
    visitOrder: z.enum(VISIT_ORDERS as unknown as [VisitOrder, ...VisitOrder[]]).default('seeded'),
    /** Refusals per task before a job may be given up on conflicts (see --conflict-window-ms). */
    maxRetries: int(0, 1000).default(5),
    /** ...and not before this long (ms) after the task's first refusal: a burst of refusals on a briefly stale view does not give a job up. */
    conflictWindowMs: int(0, 3_600_000).default(15_000),
    /** Jobs worked on at once (p-queue); more are pulled from the stream as these finish. */
    concurrency: int(1, 100_000).default(256),
    adaptiveThresholdMs: z.coerce.number().finite().positive().default(1500),
    seed: z.string().min(1).max(200).optional(),
    /** Give up on tasks that found no room this long after submission (ms). */
    maxWaitMs: z.coerce.number().finite().min(0).default(60_000),
    /** Claims per commit request at most (several transactions share one request). */
    batchClaims: int(1, 20_000).default(8_000),
    /** Commit requests in flight at once; while all are busy, ready transactions pile into the next one. */
    commitsInFlight: int(1, 64).default(4),
    /** A non-gang job's claims are split into transactions of at most this many. */
    txnClaims: int(1, 20_000).default(5_000),
    /**
     * How long one attempt of a commit, sync or job-outcome request waits for its answer before it
     * is sent again (safe: commits are idempotent by transaction id). Doubles per failed attempt up
     * to --request-timeout-ms; an attempt out when NATS reconnects is resent at once.
     */
    attemptTimeoutMs: int(50, 600_000).default(2_000),
    /** The longest one attempt waits (the cap of the doubling attempt timeouts). */
    requestTimeoutMs: int(100, 600_000).default(10_000),
    /** A commit request still failing this long after it was first sent fails its jobs' rounds (outcome in doubt: the jobs go back to the stream). */
    commitGiveUpMs: int(1_000, 3_600_000).default(30_000),
    /** JetStream replicas of the streams this service creates if missing (1 locally; 3 on a 3-node NATS cluster). */
    replicas: int(1, 5).default(1),
    /**
     * DESIGN §11: a non-preemptible task that fits nowhere may evict (`on`, the default: the
     * `preemption` post-filter joins the pipeline, and while a task that could preempt waits for
     * room syncs carry each node's tasks); `off` never preempts and syncs without tasks.
     */
    preemption: z.enum(['on', 'off']).default('on'),
    /** A victim's priority must be lower by at least this (preemptible victims aside). */
    preemptionPriorityGap: int(0, 1_000_000).default(DEFAULT_PREEMPTION_PRIORITY_GAP),
    /** A task that started less than this long ago is never a victim (no preemption storms). */
    preemptionMinRuntimeS: z.coerce.number().finite().min(0).default(DEFAULT_PREEMPTION_MIN_RUNTIME_S),
    /** Preempting placements per second at most, per scheduler. */
    preemptionMaxPerS: z.coerce.number().finite().positive().default(DEFAULT_PREEMPTION_MAX_PER_SECOND),
  })
  .strict()
  .refine((f) => f.index < f.count, { message: 'must be smaller than --count', path: ['index'] })
  .refine((f) => f.attemptTimeoutMs <= f.requestTimeoutMs, { message: 'must not exceed --request-timeout-ms', path: ['attemptTimeoutMs'] })
  .refine((f) => !/\s/.test(f.resources) && f.resources.split(',').every((r) => r.length > 0), { message: 'a comma-separated list of resource names', path: ['resources'] });

export type SchedulerFlags = z.output<typeof schedulerFlags>;

export interface SchedulerConfig extends Omit<SchedulerFlags, 'pipeline'> {
  readonly id: string;
  /** The parsed `--pipeline` (undefined: the `--scorer` shorthand). */
  readonly pipeline: PipelineSpec | undefined;
  readonly seed: string;
  readonly space: ResourceSpace;
  readonly natsServers: string[];
}

/** `--pipeline`: a file's content when the value names a file, else the value itself. RangeError on a bad spec. */
export function pipelineOf(value: string | undefined): PipelineSpec | undefined {
  if (value === undefined) return undefined;
  try {
    return pipelineSpecFromText(existsSync(value) ? readFileSync(value, 'utf8') : value);
  } catch (e) {
    if (e instanceof PipelineSpecError) throw new RangeError(`--pipeline ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * The pipeline with the `preemption` post-filter added when `--preemption on` and the spec does
 * not configure it itself (undefined stays undefined when preemption is off: the --scorer shorthand).
 */
export function withPreemption(spec: PipelineSpec | undefined, flags: Pick<SchedulerFlags, 'scorer' | 'preemption' | 'preemptionPriorityGap' | 'preemptionMinRuntimeS' | 'preemptionMaxPerS'>): PipelineSpec | undefined {
  if (flags.preemption === 'off') return spec;
  const base = spec ?? scorerShorthand(flags.scorer);
  const post = base.postFilters ?? [];
  if (post.some((p) => (typeof p === 'string' ? p : p.name) === PREEMPTION)) return base;
  const args = { priorityGap: flags.preemptionPriorityGap, minRuntimeS: flags.preemptionMinRuntimeS, maxPerSecond: flags.preemptionMaxPerS };
  return { ...base, postFilters: [...post, { name: PREEMPTION, args }] };
}

/** Derives what the flags imply (resource space, default id and seed, pipeline); throws RangeError on a bad resource list or pipeline. */
export function deriveConfig(flags: SchedulerFlags): SchedulerConfig {
  const id = flags.id ?? defaultSchedulerId(flags.index);
  return Object.freeze({
    ...flags,
    pipeline: withPreemption(pipelineOf(flags.pipeline), flags),
    id,
    seed: flags.seed ?? id,
    space: ResourceSpace.of(flags.resources.split(',')),
    natsServers: flags.nats.split(',').map((s) => s.trim()).filter((s) => s !== ''),
  });
}
