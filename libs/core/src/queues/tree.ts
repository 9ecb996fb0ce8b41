/**
 * Queues (DESIGN §10): a tree of named queues, each with a weight, a guaranteed (min) and a max
 * quota per resource. A job's `queue` names a leaf by its dotted path (`prod.web`). The tree is
 * built from a queue file (queue-file.ts), refused whole on any bad field.
 */
import { addInto, dominantShare, type ResourceSpace, type ResourceVector } from '../resources.ts';

/** The queue every cell has, whatever the file says. */
export const DEFAULT_QUEUE = 'default';

const prefixCache = new Map<string, readonly string[]>();

/** A queue path and its dotted prefixes, leaf first: `a.b.c` → [`a.b.c`, `a.b`, `a`] (cached). */
export function queuePrefixes(path: string): readonly string[] {
  let out = prefixCache.get(path);
  if (out === undefined) {
    const parts = path.split('.');
    out = Object.freeze(parts.map((_, i) => parts.slice(0, parts.length - i).join('.')));
    if (prefixCache.size < 100_000) prefixCache.set(path, out);
  }
  return out;
}

/** `into[q] += demand` on the queue and every dotted prefix of it (usage with inner queues included). */
export function addQueueUsage(into: Map<string, ResourceVector>, queue: string, demand: ResourceVector): void {
  for (const p of queuePrefixes(queue)) {
    const v = into.get(p);
    if (v === undefined) into.set(p, Float64Array.from(demand));
    else addInto(v, demand);
  }
}

export interface QueueNode {
  /** Dotted path from the top (`prod.web`); the queue's identity. */
  readonly path: string;
  readonly name: string;
  /** Path of the parent, undefined at the top level. */
  readonly parent: string | undefined;
  readonly weight: number;
  readonly guaranteed: ResourceVector;
  /** Per resource; Infinity where the file sets no max (the whole cell). */
  readonly max: ResourceVector;
  readonly children: readonly QueueNode[];
}

export class QueueTree {
  readonly space: ResourceSpace;
  /** Top-level queues in file order (`default` last when the file did not name it). */
  readonly roots: readonly QueueNode[];
  private readonly byPath: ReadonlyMap<string, QueueNode>;
  /** True when some queue has a finite max (else quota has nothing to enforce). */
  readonly hasMax: boolean;

  constructor(space: ResourceSpace, roots: readonly QueueNode[]) {
    this.space = space;
    this.roots = roots;
    const m = new Map<string, QueueNode>();
    const walk = (n: QueueNode) => {
      m.set(n.path, n);
      n.children.forEach(walk);
    };
    roots.forEach(walk);
    this.byPath = m;
    this.hasMax = [...m.values()].some((n) => n.max.some((x) => x !== Infinity));
  }

  /** The tree with only `default` (a cell without a queue file). */
  static flat(space: ResourceSpace): QueueTree {
    return new QueueTree(space, [leaf(space, DEFAULT_QUEUE)]);
  }

  get(path: string): QueueNode | undefined {
    return this.byPath.get(path);
  }

  /** True when `path` names a leaf queue (what a job may name). */
  isLeaf(path: string): boolean {
    const n = this.byPath.get(path);
    return n !== undefined && n.children.length === 0;
  }

  /** Every queue, parents before children. */
  all(): QueueNode[] {
    return [...this.byPath.values()];
  }


  /** The queue and its ancestors, leaf first. Empty for an unknown path. */
  pathTo(path: string): QueueNode[] {
    const out: QueueNode[] = [];
    for (let n = this.byPath.get(path); n !== undefined; n = n.parent === undefined ? undefined : this.byPath.get(n.parent)) out.push(n);
    return out;
  }
}

export function leaf(space: ResourceSpace, name: string): QueueNode {
  return { path: name, name, parent: undefined, weight: 1, guaranteed: space.zero(), max: unbounded(space), children: [] };
}

export function unbounded(space: ResourceSpace): ResourceVector {
  return space.zero().fill(Infinity);
}

/**
 * A queue's weighted dominant share: (allocated ÷ cell capacity, max over resources) ÷ weight
 * (DRF; a weight of 0 counts as an infinite share, as Kueue's).
 */
export function weightedShare(capacity: ResourceVector, allocated: ResourceVector | undefined, weight: number): number {
  const s = allocated === undefined ? 0 : dominantShare(capacity, allocated);
  return weight > 0 ? s / weight : s > 0 ? Infinity : Number.MAX_VALUE;
}

/**
 * Allocation per queue (leaves and inner queues) from the allocation of the leaves only: an inner
 * queue's allocation is the sum of its children's. (CellState.queueAllocated already includes
 * inner queues; this is for leaf-only figures.)
 */
export function rollUp(tree: QueueTree, leaves: ReadonlyMap<string, ResourceVector>): Map<string, ResourceVector> {
  const out = new Map<string, ResourceVector>();
  for (const [path, v] of leaves) {
    for (const n of tree.pathTo(path)) {
      let sum = out.get(n.path);
      if (sum === undefined) out.set(n.path, (sum = tree.space.zero()));
      addInto(sum, v);
    }
  }
  return out;
}
