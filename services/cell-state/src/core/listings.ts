/**
 * The listings of DESIGN §7 (`tessera jobs|nodes|partitions --json`), paginated: `total` counts
 * the matching items, `items` is the page `[offset, offset+limit)`. With `ids`, only those items,
 * in the order asked, unknown ids skipped.
 */
import { GPU_MODEL_LABEL, gpuListing, type NodeState } from '@tessera/core';
import type { JobListing, ListingRequest, NodeListing, PartitionListing } from '@tessera/protocol';
import { jobListingOf, type JobEntry } from './job-table.ts';
import type { CellModel } from './model.ts';
import { quotaWaitReason } from './queues.ts';

export interface Page<T> {
  readonly ok: true;
  readonly total: number;
  readonly items: T[];
}

function page<S, T>(all: readonly S[] | undefined, iterate: () => Iterable<S>, count: number, req: ListingRequest, render: (s: S) => T): Page<T> {
  const items: T[] = [];
  if (all !== undefined) {
    for (let i = req.offset; i < all.length && items.length < req.limit; i++) items.push(render(all[i]));
    return { ok: true, total: all.length, items };
  }
  let i = 0;
  for (const s of iterate()) {
    if (i++ < req.offset) continue;
    if (items.length >= req.limit) break;
    items.push(render(s));
  }
  return { ok: true, total: count, items };
}

function pick<S>(ids: readonly string[] | undefined, get: (id: string) => S | undefined): S[] | undefined {
  if (ids === undefined) return undefined;
  const out: S[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const s = get(id);
    if (s !== undefined) out.push(s);
  }
  return out;
}

export function listJobs(model: CellModel, req: ListingRequest): Page<JobListing> {
  const chosen = pick<JobEntry>(req.ids, (id) => model.jobs.get(id));
  const from = req.taskOffset ?? 0;
  const to = req.taskLimit === undefined ? Infinity : from + req.taskLimit;
  return page(chosen, () => model.jobs.entries(), model.jobs.size, req, (j) => withQuotaReason(model, j, jobListingOf(j, from, to)));
}

/** A pending job held back by its queue's quota says so (DESIGN §10: pending, with a reason). */
function withQuotaReason(model: CellModel, j: JobEntry, l: JobListing): JobListing {
  if (l.state !== 'pending' || l.reason !== undefined) return l;
  const reason = quotaWaitReason(model, j);
  return reason === undefined ? l : { ...l, reason };
}

export function nodeListingOf(model: CellModel, n: NodeState): NodeListing {
  const out: NodeListing = {
    id: n.id, partition: n.partition, state: n.condition, labels: { ...n.labels },
    capacity: model.space.record(n.capacity, true), allocated: model.space.record(n.allocated, true), version: n.version,
  };
  // DESIGN §12: per-device allocation and the GPU model, for nodes with GPU devices.
  if (n.gpus !== undefined) out.gpus = gpuListing(n.gpus);
  if (n.labels[GPU_MODEL_LABEL] !== undefined) out.gpu_model = n.labels[GPU_MODEL_LABEL];
  return out;
}

export function listNodes(model: CellModel, req: ListingRequest): Page<NodeListing> {
  const chosen = pick<NodeState>(req.ids, (id) => model.cell.node(id));
  return page(chosen, () => model.cell.nodes, model.cell.nodeCount, req, (n) => nodeListingOf(model, n));
}

export function partitionListingOf(model: CellModel, p: number): PartitionListing {
  const nodes = model.cell.partitionNodes(p);
  const dims = model.space.size;
  const cap = new Float64Array(dims);
  const used = new Float64Array(dims);
  let ready = 0;
  for (const n of nodes) {
    if (n.condition !== 'ready') continue;
    ready++;
    for (let i = 0; i < dims; i++) {
      cap[i] += n.capacity[i];
      used[i] += n.allocated[i];
    }
  }
  const ratio: Record<string, number> = {};
  for (let i = 0; i < dims; i++) ratio[model.space.names[i]] = cap[i] > 0 ? used[i] / cap[i] : 0;
  return { id: p, version: model.cell.partitionVersion(p), nodes: nodes.length, ready, allocated_ratio: ratio };
}

export function listPartitions(model: CellModel, req: ListingRequest): Page<PartitionListing> {
  const P = model.cell.partitionCount;
  const chosen = pick<number>(req.ids, (id) => {
    const p = Number(id);
    return Number.isInteger(p) && p >= 0 && p < P && String(p) === id ? p : undefined;
  });
  const all = chosen ?? Array.from({ length: P }, (_, p) => p);
  return page(all, () => all, all.length, req, (p) => partitionListingOf(model, p));
}
