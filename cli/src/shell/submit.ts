/**
 * Reading job files and publishing jobs to the JetStream jobs subject (runtime's JobPublisher:
 * `msgID` = job id, so a resubmission inside the stream's duplicate window is dropped by
 * JetStream and reported as a duplicate; every job carries `submittedAt`, ms since the epoch).
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { NatsConnection } from '@nats-io/transport-node';
import type { JobSpec, ResourceSpace } from '@tessera/core';
import type { Subjects } from '@tessera/protocol';
import { JobPublisher, JobPublishError, type PublishResult } from '@tessera/runtime';
import { describeProblems, readJobFileText } from '../core/job-file.ts';
import { CliError } from './errors.ts';

/** The publisher lives in @tessera/runtime (the benchmark and tests use it too). */
export { JobPublisher } from '@tessera/runtime';

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

/** Publishes every job of every file with `submittedAt` = `now`, many to a message, many acks in flight; CliError on the first failure. */
export async function publishJobs(nc: NatsConnection, subjects: Subjects, files: readonly (readonly JobSpec[])[], now: number): Promise<PublishResult> {
  const pub = new JobPublisher(nc, subjects);
  try {
    // File by file: a file's batches (and so their deduplication) do not depend on the others.
    for (const jobs of files) await pub.publishAll(jobs, now);
    return await pub.flush();
  } catch (e) {
    if (e instanceof JobPublishError) throw new CliError(e.message, 1, { cause: e });
    throw e;
  }
}
