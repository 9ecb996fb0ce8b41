/**
 * Reading job files and publishing jobs to the JetStream jobs subject. Each job is published
 * with `msgID` = job id, so a resubmission inside the stream's duplicate window is dropped by
 * JetStream (reported as a duplicate), and carries `submittedAt` (ms since the epoch).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JobSpec, ResourceSpace } from '@tessera/core';
import { encode, type JobSubmission, type Subjects } from '@tessera/protocol';
import { describeProblems, readJobFileText } from '../core/job-file.ts';
import { CliError } from './errors.ts';

export async function readFileText(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new CliError(`${path}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  return bytes.toString('utf8');
}

/** Reads and validates every job of the file; throws CliError naming the first bad field. */
export async function loadJobFile(path: string, space: ResourceSpace): Promise<JobSpec[]> {
  const text = await readFileText(path);
  const r = readJobFileText(text, path, space);
  if (!r.ok) throw new CliError(describeProblems(path, r.problems));
  return r.jobs;
}

export interface PublishResult {
  readonly published: number;
  /** Already in the stream (same job id within the duplicate window). */
  readonly duplicates: number;
}

/** Publishes jobs with at most `window` acks outstanding. */
export class JobPublisher {
  private readonly js;
  private inFlight = new Set<Promise<void>>();
  published = 0;
  duplicates = 0;
  private failure?: Error;

  constructor(nc: NatsConnection, private readonly subjects: Subjects, private readonly window = 256) {
    this.js = jetstream(nc);
  }

  async publish(job: JobSpec, submittedAt: number): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight.size >= this.window) await Promise.race(this.inFlight);
    const payload: JobSubmission = { job: job as unknown as Record<string, unknown>, submittedAt };
    const p = this.js.publish(this.subjects.jobsSubmit(job.tenant), encode(payload), { msgID: job.id, timeout: 15_000 }).then(
      (ack) => { if (ack.duplicate) this.duplicates++; else this.published++; },
      (e: Error) => { this.failure ??= new CliError(`publishing job ${job.id} failed: ${e.message}`, 1, { cause: e }); },
    ).finally(() => { this.inFlight.delete(p); });
    this.inFlight.add(p);
  }

  async flush(): Promise<PublishResult> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    return { published: this.published, duplicates: this.duplicates };
  }
}
