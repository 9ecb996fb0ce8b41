/**
 * `tessera queues [--json]`, `tessera queues apply FILE` and `tessera up --queues FILE` (DESIGN §10).
 * The file is parsed (YAML or JSON) and validated here first, so a bad field is reported with its
 * path before anything is sent; cell-state validates it again against the cell's capacity and
 * refuses it whole (nothing changes) or stores it in the config bucket and applies it live.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { parse as parseYaml } from 'yaml';
import { parseQueueFile, type ResourceSpace } from '@tessera/core';
import { queuesApplyReply, queuesListingReply, RemoteError, type QueueListing } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { table } from '../core/tables.ts';
import { CliError } from './errors.ts';
import { readFileText } from './submit.ts';
import { explainRequestError, type CellTarget } from './target.ts';

/** Reads and validates a queue file; throws a one-line CliError naming the file and the bad field's path. */
export async function loadQueueFile(path: string, space: ResourceSpace): Promise<unknown> {
  const text = await readFileText(path);
  let doc: unknown;
  try {
    doc = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new CliError(`${path}: not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`, 2, { cause: e });
  }
  const r = parseQueueFile(doc, space);
  if (!r.ok) throw new CliError(`${path}: ${r.error.path}: ${r.error.message}; nothing was applied`, 2);
  return doc;
}

export async function applyQueues(nc: NatsConnection, t: CellTarget, file: unknown, source: string): Promise<{ queues: number; version: number }> {
  try {
    const r = await request(nc, t.subjects.queuesApply, { file }, queuesApplyReply, { timeoutMs: 10_000 });
    return { queues: r.queues, version: r.version };
  } catch (e) {
    if (e instanceof RemoteError) throw new CliError(`${source}: refused by cell-state: ${e.message}; nothing was applied`, 1, { cause: e });
    throw explainRequestError(e, t.subjects.queuesApply);
  }
}

export async function fetchQueues(nc: NatsConnection, t: CellTarget): Promise<QueueListing[]> {
  try {
    return (await request(nc, t.subjects.queryQueues, {}, queuesListingReply, { timeoutMs: 10_000 })).items;
  } catch (e) {
    throw explainRequestError(e, t.subjects.queryQueues);
  }
}

/** The queue names a cell knows (dotted paths), for refusing jobs that name another at submit. */
export async function knownQueues(nc: NatsConnection, t: CellTarget): Promise<ReadonlySet<string>> {
  return new Set((await fetchQueues(nc, t)).map((q) => q.name));
}

const amounts = (r: Readonly<Record<string, number>>): string =>
  Object.entries(r).filter(([, v]) => v !== 0).map(([k, v]) => `${k} ${v}`).join(', ') || '-';

export function formatQueues(items: readonly QueueListing[]): string {
  return table(['QUEUE', 'WEIGHT', 'DOMINANT SHARE', 'ALLOCATED', 'GUARANTEED', 'MAX', 'PENDING JOBS', 'PENDING TASKS', 'RUNNING TASKS'], items.map((q) => [
    q.name, q.weight, `${(q.dominant_share * 100).toFixed(1)}%`, amounts(q.allocated), amounts(q.guaranteed), amounts(q.max),
    q.pending_jobs, q.pending_tasks, q.running_tasks,
  ]));
}
