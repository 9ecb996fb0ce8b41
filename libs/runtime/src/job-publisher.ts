/**
 * Publishing job submissions to the cell's JetStream jobs subject, with many acks in flight (the
 * server acks each publish; waiting for one before sending the next costs a round trip per job).
 * `publish` sends one submission with the caller's `msgID` (the job id: a resubmission inside the
 * stream's duplicate window is dropped by JetStream and counted as a duplicate); `publishAll`
 * sends jobs submitted together as `jobBatch` messages (protocol/job-batch.ts), each with a
 * `msgID` derived from its job ids, so resubmitting the same file is deduplicated batch by batch.
 * Used by `tessera submit`, `tessera replay` and the benchmark's small-jobs run.
 */
import { createHash } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, JobBatchBuilder, type BuiltBatch, type JobSubmission, type Subjects } from '@tessera/protocol';

export interface PublishResult {
  readonly published: number;
  /** Already in the stream (same msgID within the duplicate window). */
  readonly duplicates: number;
}

/** A job could not be published (no ack within the timeout, no stream, …). */
export class JobPublishError extends Error {
  override readonly name = 'JobPublishError';
  /** `msgID`: the job id, or a batch's id (`jobs:<n>:<hash>`). */
  constructor(readonly msgID: string, cause: Error) {
    super(`publishing ${msgID.startsWith('jobs:') ? `a batch of ${msgID.split(':')[1]} jobs` : `job ${msgID}`} failed: ${cause.message}`, { cause });
  }
}

export interface JobPublisherOptions {
  /** Publishes awaiting their ack at most (default 256). */
  readonly window?: number;
  /** Per-publish ack timeout (default 15 s). */
  readonly timeoutMs?: number;
}

/** What the publisher reads of a job spec: its id and tenant (absent: `default`, as the spec's default). */
export interface SubmittedJob {
  readonly id: string;
  readonly tenant?: string;
}

function tenantOf(job: SubmittedJob): string {
  return typeof job.tenant === 'string' ? job.tenant : 'default';
}

/** Publishes jobs with at most `window` acks outstanding; `flush()` waits for the rest. */
export class JobPublisher {
  private readonly js: JetStreamClient;
  private readonly window: number;
  private readonly timeoutMs: number;
  private inFlight = 0;
  /** Callers waiting for room in the window, woken one per settled publish. */
  private readonly waiting: (() => void)[] = [];
  private drained: (() => void)[] = [];
  published = 0;
  duplicates = 0;
  private failure: JobPublishError | undefined;

  constructor(nc: NatsConnection, private readonly subjects: Subjects, opts: JobPublisherOptions = {}) {
    this.js = jetstream(nc);
    this.window = opts.window ?? 256;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  /**
   * Publishes `jobs`, all submitted at `submittedAt`, batched (at most `jobsPerBatch` jobs a
   * message, cut by content: protocol/job-batch.ts). Duplicates are counted per job of a
   * duplicate batch. Call once per file, so a file's batches do not depend on its neighbours.
   */
  async publishAll(jobs: Iterable<SubmittedJob>, submittedAt: number, jobsPerBatch?: number): Promise<void> {
    // One batch per tenant at a time: a message goes to its tenant's subject (DESIGN §13).
    const builders = new Map<string, JobBatchBuilder>();
    for (const job of jobs) {
      const tenant = tenantOf(job);
      let b = builders.get(tenant);
      if (b === undefined) builders.set(tenant, (b = new JobBatchBuilder(jobsPerBatch)));
      const done = b.add(job, submittedAt);
      if (done !== undefined) await this.publishBatch(tenant, done);
    }
    for (const [tenant, b] of builders) {
      const last = b.take(submittedAt);
      if (last !== undefined) await this.publishBatch(tenant, last);
    }
  }

  private async publishBatch(tenant: string, b: BuiltBatch): Promise<void> {
    await this.send(tenant, b.payload, batchMsgId(b.ids), b.ids.length);
  }

  /**
   * Sends one job alone (`msgID` = its id), with `extra` submission fields; waits only while the
   * window is full; throws the first failure seen.
   */
  async publish(job: SubmittedJob, submittedAt: number, extra: Omit<JobSubmission, 'job' | 'submittedAt'> = {}): Promise<void> {
    const sub: JobSubmission = { job: job as unknown as Record<string, unknown>, submittedAt, ...extra };
    await this.send(tenantOf(job), encode(sub), job.id, 1);
  }

  private async send(tenant: string, payload: Uint8Array, msgID: string, jobs: number): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight >= this.window) {
      await new Promise<void>((r) => this.waiting.push(r));
      if (this.failure) throw this.failure;
    }
    this.inFlight++;
    this.js.publish(this.subjects.jobsSubmit(tenant), payload, { msgID, timeout: this.timeoutMs }).then(
      (ack) => {
        if (ack.duplicate) this.duplicates += jobs;
        else this.published += jobs;
      },
      (e: Error) => {
        this.failure ??= new JobPublishError(msgID, e);
      },
    ).finally(() => this.settled());
  }

  private settled(): void {
    this.inFlight--;
    this.waiting.shift()?.();
    if (this.inFlight === 0) for (const r of this.drained.splice(0)) r();
  }

  /** Waits for every outstanding ack; throws the first failure seen. */
  async flush(): Promise<PublishResult> {
    if (this.inFlight > 0) await new Promise<void>((r) => this.drained.push(r));
    if (this.failure) throw this.failure;
    return { published: this.published, duplicates: this.duplicates };
  }
}

/** A batch's message id: its job ids hashed (the same jobs in the same batch dedup; any other set does not). */
export function batchMsgId(ids: readonly string[]): string {
  const h = createHash('sha256');
  for (const id of ids) h.update(id).update('\n');
  return `jobs:${ids.length}:${h.digest('base64url')}`;
}
