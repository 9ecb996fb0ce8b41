/**
 * The cell's queues (DESIGN §10) as cell-state holds them: the queue file in force (validated
 * whole against the cell's capacity), the usage shipped to replicas, the listing, and why a job
 * waiting for quota is pending. Pure: the shell stores the file in the config bucket.
 */
import {
  dominantShare, parseQueueFile, queuePrefixes, DEFAULT_QUEUE, type QueueFile, type QueueFileError, type QueueNode, type QueueTree, type ResourceVector,
} from '@tessera/core';
import type { QueueListing, WireQueueUsage } from '@tessera/protocol';
import { TaskCode, type JobEntry } from './job-table.ts';
import type { CellModel } from './model.ts';

/** The queue configuration of a model: none until a file is applied. */
export interface QueueState {
  tree: QueueTree | undefined;
  file: QueueFile | undefined;
  /** Bumped at every apply (replicas re-read the file only when it changed). */
  version: number;
}

export function emptyQueueState(): QueueState {
  return { tree: undefined, file: undefined, version: 0 };
}

/**
 * Validates `input` as a queue file against the cell's capacity (ready nodes) and, when valid,
 * puts it in force. Refused whole: nothing changes, and the error names the bad field.
 */
export function applyQueueFile(model: CellModel, input: unknown, version?: number): { ok: true } | { ok: false; error: QueueFileError } {
  const cap = model.cell.totals().capacity;
  // With no node registered yet there is no capacity to hold the top level to (e.g. a restart
  // before the agents are back): the file was checked against the cell when it was applied.
  const anyCapacity = cap.some((x) => x > 0);
  const r = parseQueueFile(input, model.space, anyCapacity ? cap : undefined);
  if (!r.ok) return r;
  model.queues.tree = r.tree;
  model.queues.file = r.file;
  model.queues.version = version ?? model.queues.version + 1;
  return { ok: true };
}

/** Why a job cannot be taken: its queue is not a leaf of the file in force (undefined when it may be). */
export function unknownQueueReason(model: CellModel, queue: string): string | undefined {
  const t = model.queues.tree;
  if (t === undefined || t.isLeaf(queue)) return undefined;
  const leaves = t.all().filter((n) => n.children.length === 0).map((n) => n.path);
  return `unknown queue "${queue}" (queues: ${leaves.join(', ')})`;
}

/** The usage every sync reply carries (DESIGN §10: replicas order by the committer's numbers). */
export function queueUsageWire(model: CellModel): WireQueueUsage {
  const allocated: Record<string, number[]> = {};
  for (const [q, v] of model.cell.queueAllocated()) allocated[q] = Array.from(v);
  const out: WireQueueUsage = { capacity: Array.from(model.cell.totals().capacity), allocated, version: model.queues.version };
  return model.queues.file === undefined ? out : { ...out, file: model.queues.file as unknown as Record<string, unknown> };
}

/**
 * Why a pending job waits, when it is its queue's quota: the first queue on its path whose max
 * its smallest pending task would exceed. Undefined when quota is not what holds it.
 */
export function quotaWaitReason(model: CellModel, job: JobEntry): string | undefined {
  const t = model.queues.tree;
  const spec = job.spec;
  if (t === undefined || !t.hasMax || spec === undefined || spec.preemptible === true || job.counts[TaskCode.pending] === 0) return undefined;
  const used = model.cell.queueAllocated();
  const space = model.space;
  for (const g of spec.tasks) {
    const d = space.vector(g.resources);
    for (const path of queuePrefixes(spec.queue)) {
      const q = t.get(path);
      if (q === undefined) continue;
      const a = used.get(path);
      for (let k = 0; k < d.length; k++) {
        if ((a === undefined ? 0 : a[k]) + d[k] > q.max[k]) return `waiting for quota: queue ${path} at its max ${space.names[k]} (${a?.[k] ?? 0} of ${q.max[k]})`;
      }
    }
  }
  return undefined;
}

/** `tessera queues --json` (DESIGN §10 shape): every queue, parents first. */
export function listQueues(model: CellModel): QueueListing[] {
  const space = model.space;
  const cap = model.cell.totals().capacity;
  const tree = model.queues.tree;
  const nodes: QueueNode[] = tree?.all() ?? [];
  const used = model.cell.queueAllocated();
  // Every queue the cell has seen work for is listed, file or not (e.g. `default`, or all of them without a file).
  const known = new Set(nodes.map((n) => n.path));
  const extra: string[] = [];
  const addExtra = (q: string) => {
    for (const p of queuePrefixes(q)) if (!known.has(p)) {
      known.add(p);
      extra.push(p);
    }
  };
  if (tree === undefined) addExtra(DEFAULT_QUEUE);
  for (const q of used.keys()) addExtra(q);
  const pendingJobs = new Map<string, number>();
  const pendingTasks = new Map<string, number>();
  for (const j of model.jobs.entries()) {
    const p = j.counts[TaskCode.pending];
    if (j.spec === undefined || j.outcome !== undefined || p === 0) continue;
    addExtra(j.spec.queue);
    for (const q of queuePrefixes(j.spec.queue)) {
      pendingJobs.set(q, (pendingJobs.get(q) ?? 0) + 1);
      pendingTasks.set(q, (pendingTasks.get(q) ?? 0) + p);
    }
  }
  const running = new Map<string, number>();
  for (const a of model.cell.placedTasks()) for (const q of queuePrefixes(a.queue ?? DEFAULT_QUEUE)) running.set(q, (running.get(q) ?? 0) + 1);
  const rec = (v: ResourceVector) => space.record(v, true);
  const listing = (path: string, n: QueueNode | undefined): QueueListing => {
    const a = used.get(path) ?? space.zero();
    const max = n === undefined ? cap : n.max.map((x, k) => (x === Infinity ? cap[k] : x));
    const weight = n?.weight ?? 1;
    return {
      name: path,
      parent: n !== undefined ? (n.parent ?? null) : path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : null,
      weight,
      guaranteed: rec(n?.guaranteed ?? space.zero()),
      max: rec(max),
      allocated: rec(a),
      dominant_share: dominantShare(cap, a),
      pending_jobs: pendingJobs.get(path) ?? 0,
      pending_tasks: pendingTasks.get(path) ?? 0,
      running_tasks: running.get(path) ?? 0,
    };
  };
  return [...nodes.map((n) => listing(n.path, n)), ...extra.map((p) => listing(p, undefined))];
}
