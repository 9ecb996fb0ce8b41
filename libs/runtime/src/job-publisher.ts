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
  async publishAll(jobs: Iterable<{ readonly id: string }>, submittedAt: number, jobsPerBatch?: number): Promise<void> {
    const builder = new JobBatchBuilder(jobsPerBatch);
    for (const job of jobs) {
      const done = builder.add(job, submittedAt);
      if (done !== undefined) await this.publishBatch(done);
    }
    const last = builder.take(submittedAt);
    if (last !== undefined) await this.publishBatch(last);
  }

  private async publishBatch(b: BuiltBatch): Promise<void> {
    await this.send(b.payload, batchMsgId(b.ids), b.ids.length);
  }

  /** Sends one submission (waits only while the window is full); throws the first failure seen. */
  async publish(sub: JobSubmission, msgID: string): Promise<void> {
    await this.send(encode(sub), msgID, 1);
  }

  private async send(payload: Uint8Array, msgID: string, jobs: number): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight >= this.window) {
      await new Promise<void>((r) => this.waiting.push(r));
      if (this.failure) throw this.failure;
    }
    this.inFlight++;
    this.js.publish(this.subjects.jobsSubmit, payload, { msgID, timeout: this.timeoutMs }).then(
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
