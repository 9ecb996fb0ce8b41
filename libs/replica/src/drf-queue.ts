/**
 * Dominant Resource Fairness across a queue tree (DESIGN §10; Ghodsi et al., NSDI'11; YARN's Fair
 * Scheduler with DRF; Kueue's fair sharing): the next job comes from the queue with the lowest
 * weighted dominant share (allocated ÷ cell capacity, max over resources, ÷ weight), chosen level
 * by level from the top; within a leaf, higher priority first, then earlier submit. A queue whose
 * head job would take it (or an ancestor) above max is skipped, so it never blocks the others.
 * At every level, queues below their guaranteed quota go before the rest (YARN's min share,
 * Kueue's nominal quota), the furthest below first. Ties between queues go to the one served
 * least recently, so equal queues alternate.
 */
import { QueueTree, weightedShare, type QueueNode, type ResourceSpace, type ResourceVector } from '@tessera/core';
import type { JobQueue, QueuedJob, QueueUsage } from './job-queue.ts';

/** A binary heap of one leaf's jobs: higher priority, then earlier submit, then push order. */
class LeafHeap<J extends QueuedJob> {
  readonly items: { job: J; seq: number }[] = [];
  private before(a: { job: J; seq: number }, b: { job: J; seq: number }): boolean {
    if (a.job.priority !== b.job.priority) return a.job.priority > b.job.priority;
    if (a.job.submittedAt !== b.job.submittedAt) return a.job.submittedAt < b.job.submittedAt;
    return a.seq < b.seq;
  }
  push(job: J, seq: number): void {
    const h = this.items;
    h.push({ job, seq });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  peek(): J | undefined {
    return this.items[0]?.job;
  }
  pop(): J | undefined {
    const h = this.items;
    if (h.length === 0) return undefined;
    const top = h[0].job;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.before(h[l], h[m])) m = l;
        if (r < h.length && this.before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  removeById(id: string): boolean {
    const i = this.items.findIndex((x) => x.job.id === id);
    if (i < 0) return false;
    const rest = this.items.splice(i, 1).length;
    const all = this.items.splice(0);
    for (const x of all) this.push(x.job, x.seq);
    return rest > 0;
  }
}

export class DrfQueue<J extends QueuedJob = QueuedJob> implements JobQueue<J> {
  readonly kind = 'drf';
  private tree: QueueTree;
  private readonly leaves = new Map<string, LeafHeap<J>>();
  private seq = 0;
  private count = 0;
  /** Per queue path, the `seq` at which it last served a job (ties go to the least recent). */
  private readonly servedAt = new Map<string, number>();

  /**
   * `tree`: the queue tree (a job naming a queue outside it is ordered as a top-level leaf of
   * weight 1); a usage carrying a tree replaces it (live `queues apply`), queued jobs stay.
   */
  constructor(space: ResourceSpace, tree?: QueueTree) {
    this.tree = tree ?? QueueTree.flat(space);
  }


  push(job: J): void {
    let h = this.leaves.get(job.queue);
    if (h === undefined) this.leaves.set(job.queue, (h = new LeafHeap()));
    h.push(job, this.seq++);
    this.count++;
  }

  next(usage?: QueueUsage): J | undefined {
    if (this.count === 0) return undefined;
    if (usage?.tree !== undefined) this.tree = usage.tree;
    const rolled = usage === undefined ? EMPTY_USAGE : usage.allocated;
    const capacity = usage?.capacity;
    const path = this.pick(this.topLevel(), rolled, capacity);
    if (path === undefined) return undefined;
    const job = this.leaves.get(path)!.pop()!;
    this.count--;
    const stamp = this.seq++;
    for (const n of this.tree.pathTo(path)) this.servedAt.set(n.path, stamp);
    this.servedAt.set(path, stamp);
    return job;
  }

  remove(id: string): boolean {
    for (const h of this.leaves.values()) {
      if (h.removeById(id)) {
        this.count--;
        return true;
      }
    }
    return false;
  }

  get size(): number {
    return this.count;
  }

  waiting(): Map<string, J[]> {
    const out = new Map<string, J[]>();
    for (const [q, h] of this.leaves) if (h.items.length > 0) out.set(q, h.items.map((x) => x.job));
    return out;
  }

  /** Top-level candidates: the tree's roots, plus leaves with jobs whose queue the tree does not know. */
  private topLevel(): readonly Candidate[] {
    const out: Candidate[] = this.tree.roots.map((n) => ({ path: n.path, node: n }));
    for (const q of this.leaves.keys()) if (this.tree.get(q) === undefined) out.push({ path: q, node: undefined });
    return out;
  }

  /** Lowest weighted share first among candidates with a job that may go; recursive down to a leaf. */
  private pick(cands: readonly Candidate[], rolled: ReadonlyMap<string, ResourceVector>, capacity: ResourceVector | undefined): string | undefined {
    const order = cands.map((c) => ({
      c,
      ofGuaranteed: c.node === undefined ? 1 : shareOfGuaranteed(c.node.guaranteed, rolled.get(c.path)),
      share: capacity === undefined ? 0 : weightedShare(capacity, rolled.get(c.path), c.node?.weight ?? 1),
      served: this.servedAt.get(c.path) ?? -1,
    }));
    order.sort(
      (a, b) =>
        Math.min(a.ofGuaranteed, 1) - Math.min(b.ofGuaranteed, 1) || a.share - b.share || a.served - b.served || (a.c.path < b.c.path ? -1 : 1),
    );
    for (const { c } of order) {
      if (c.node === undefined || c.node.children.length === 0) {
        if (this.leafMayGo(c.path, rolled, capacity)) return c.path;
        continue;
      }
      const p = this.pick(c.node.children.map((n) => ({ path: n.path, node: n })), rolled, capacity);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /** The leaf has a job, and its head job's need fits under max on every queue of its path. */
  private leafMayGo(path: string, rolled: ReadonlyMap<string, ResourceVector>, capacity: ResourceVector | undefined): boolean {
    const head = this.leaves.get(path)?.peek();
    if (head === undefined) return false;
    if (capacity === undefined || head.need === undefined || !this.tree.hasMax) return true;
    return fitsUnderMax(this.tree.pathTo(path), rolled, head.need);
  }
}

interface Candidate {
  readonly path: string;
  readonly node: QueueNode | undefined;
}

/** allocated + need ≤ max on every queue of `path` (leaf first). */
export function fitsUnderMax(path: readonly QueueNode[], rolled: ReadonlyMap<string, ResourceVector>, need: ResourceVector): boolean {
  for (const n of path) {
    const a = rolled.get(n.path);
    for (let k = 0; k < need.length; k++) if (!((a === undefined ? 0 : a[k]) + need[k] <= n.max[k])) return false;
  }
  return true;
}

/**
 * How far a queue is into its guaranteed quota: max over the resources it is guaranteed of
 * allocated ÷ guaranteed (its dominant share of the guarantee). Below 1: the queue has not reached
 * its guarantee on any guaranteed resource. A queue guaranteed nothing is at 1 (never "below").
 */
export function shareOfGuaranteed(guaranteed: ResourceVector, allocated: ResourceVector | undefined): number {
  let worst = -1;
  for (let k = 0; k < guaranteed.length; k++) {
    if (!(guaranteed[k] > 0)) continue;
    const r = (allocated === undefined ? 0 : allocated[k]) / guaranteed[k];
    if (r > worst) worst = r;
  }
  return worst < 0 ? 1 : worst;
}

const EMPTY_USAGE: ReadonlyMap<string, ResourceVector> = new Map();
