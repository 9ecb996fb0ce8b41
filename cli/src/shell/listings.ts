/** `tessera jobs|nodes|partitions`: paginated listings from cell-state's query subjects (DESIGN §7). */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  jobsListingReply, nodesListingReply, partitionsListingReply,
  type JobListing, type ListingRequest, type NodeListing, type PartitionListing,
} from '@tessera/protocol';
import { request } from '@tessera/runtime';
import type { z } from 'zod';
import { explainRequestError } from './target.ts';

type PagedReply = typeof jobsListingReply | typeof nodesListingReply | typeof partitionsListingReply;

/**
 * Pages through a listing. Jobs carry their tasks, so a page of big jobs can outgrow NATS'
 * max_payload (the reply then never comes): on a timeout or an error reply the page is halved and
 * asked again, down to one item; "no responders" fails at once.
 */
async function fetchPages<S extends PagedReply>(nc: NatsConnection, subject: string, schema: S, pageSize: number, max?: number, extra: Partial<ListingRequest> = {}): Promise<z.output<S>['items']> {
  const items: z.output<S>['items'] = [];
  let offset = 0;
  let limit = pageSize;
  for (;;) {
    let reply: z.output<S>;
    try {
      reply = await request(nc, subject, { ...extra, offset, limit }, schema, { timeoutMs: limit < pageSize ? 5_000 : 15_000 });
    } catch (e) {
      const err = explainRequestError(e, subject);
      if (limit > 1 && !/not answering/.test(err.message)) {
        limit = Math.max(1, Math.floor(limit / 2));
        continue;
      }
      throw err;
    }
    items.push(...(reply.items as never[]));
    offset += reply.items.length;
    if (reply.items.length === 0 || offset >= reply.total || (max !== undefined && items.length >= max)) break;
  }
  return max !== undefined ? items.slice(0, max) : items;
}

/** Tasks per job in a page of jobs; the rest of a bigger job's tasks come in windows of TASK_WINDOW. */
const TASKS_PER_JOB_IN_PAGE = 1_000;
const TASK_WINDOW = 40_000;

/**
 * Jobs with all their tasks, whatever their sizes: a page of jobs carries at most
 * TASKS_PER_JOB_IN_PAGE tasks of each, then each bigger job's remaining tasks are asked for in
 * windows (`taskOffset`/`taskLimit`), so a job of 200,000 tasks never has to fit in one message.
 */
export async function fetchJobs(nc: NatsConnection, subject: string, max?: number): Promise<JobListing[]> {
  const jobs = await fetchPages(nc, subject, jobsListingReply, 200, max, { taskLimit: TASKS_PER_JOB_IN_PAGE });
  for (const j of jobs) {
    while (j.taskTotal !== undefined && j.tasks.length < j.taskTotal) {
      let more: JobListing['tasks'];
      try {
        const r = await request(nc, subject, { offset: 0, limit: 1, ids: [j.id], taskOffset: j.tasks.length, taskLimit: TASK_WINDOW }, jobsListingReply, { timeoutMs: 15_000 });
        more = r.items[0]?.tasks ?? [];
      } catch (e) {
        throw explainRequestError(e, subject);
      }
      if (more.length === 0) break;
      j.tasks.push(...more);
    }
  }
  return jobs;
}

/** One page of jobs without their tasks (counts per state only): the console's table. */
export async function fetchJobSummaries(nc: NatsConnection, subject: string, req: { offset: number; limit: number; ids?: string[] }): Promise<{ total: number; items: JobListing[] }> {
  try {
    return await request(nc, subject, { ...req, taskLimit: 0 }, jobsListingReply, { timeoutMs: 10_000 });
  } catch (e) {
    throw explainRequestError(e, subject);
  }
}
export const fetchNodes = (nc: NatsConnection, subject: string, max?: number): Promise<NodeListing[]> => fetchPages(nc, subject, nodesListingReply, 2000, max);
export const fetchPartitions = (nc: NatsConnection, subject: string): Promise<PartitionListing[]> => fetchPages(nc, subject, partitionsListingReply, 4096);

/** Jobs by id (the `ids` filter), 100 ids per request (jobs carry their tasks; replies stay under max_payload). */
export async function fetchJobsByIds(nc: NatsConnection, subject: string, ids: readonly string[], timeoutMs = 15_000): Promise<JobListing[]> {
  const out: JobListing[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const batch = ids.slice(i, i + 100);
    try {
      const reply = await request(nc, subject, { offset: 0, limit: batch.length, ids: batch }, jobsListingReply, { timeoutMs });
      out.push(...reply.items);
    } catch (e) {
      throw explainRequestError(e, subject);
    }
  }
  return out;
}

/** Exactly the §7 shapes for `--json` (cell-state may add fields; the contract is these). */
export function jobJson(j: JobListing) {
  const out: Record<string, unknown> = { id: j.id, tenant: j.tenant, state: j.state };
  if (j.reason !== undefined) out.reason = j.reason;
  out.tasks = j.tasks.map((t) => (t.node !== undefined ? { id: t.id, name: t.name, state: t.state, node: t.node } : { id: t.id, name: t.name, state: t.state }));
  return out;
}

export function nodeJson(n: NodeListing) {
  return { id: n.id, partition: n.partition, state: n.state, labels: n.labels, capacity: n.capacity, allocated: n.allocated };
}
