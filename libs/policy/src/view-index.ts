/**
 * Per-view derived structures placement needs on every decision: the partitions ordered by
 * freshness (latency-first) and one flat list of all nodes (quality-first sampling). Rebuilt only
 * when a partition's membership, version or sync time changed, not on every `assume`, which also
 * bumps `view.generation` but changes neither.
 */
import type { SchedulerView, ViewNode } from '@tessera/core';

export interface ViewIndex {
  /** Partition ids, most recently synced first (ties: lower id first). */
  readonly order: Int32Array;
  /** Number of nodes over all partitions. */
  readonly total: number;
}

interface CachedIndex extends ViewIndex {
  generation: number;
  order: Int32Array;
  total: number;
  /** Every node of the view, partition by partition; rebuilt lazily (only quality-first needs it). */
  readonly flat: ViewNode[];
  flatStale: boolean;
  readonly lengths: Int32Array;
  readonly versions: Float64Array;
  readonly syncedAt: Float64Array;
}

const cache = new WeakMap<SchedulerView, CachedIndex>();

function build(view: SchedulerView): CachedIndex {
  const P = view.partitions.length;
  const ix: CachedIndex = {
    generation: view.generation,
    order: new Int32Array(P),
    total: 0,
    flat: [],
    flatStale: true,
    lengths: new Int32Array(P),
    versions: new Float64Array(P),
    syncedAt: new Float64Array(P),
  };
  refill(view, ix);
  return ix;
}

function refill(view: SchedulerView, ix: CachedIndex): void {
  const parts = view.partitions;
  let total = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    ix.lengths[p] = part.nodes.length;
    ix.versions[p] = part.version;
    ix.syncedAt[p] = part.syncedAt;
    total += part.nodes.length;
  }
  ix.total = total;
  ix.flatStale = true;
  const order = Array.from({ length: parts.length }, (_, p) => p);
  order.sort((a, b) => {
    const d = parts[b].syncedAt - parts[a].syncedAt;
    return d > 0 ? 1 : d < 0 ? -1 : a - b; // -Infinity − -Infinity is NaN: treat as a tie
  });
  ix.order = Int32Array.from(order);
}

function unchanged(view: SchedulerView, ix: CachedIndex): boolean {
  const parts = view.partitions;
  if (parts.length !== ix.lengths.length) return false;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p];
    if (part.nodes.length !== ix.lengths[p] || part.version !== ix.versions[p] || part.syncedAt !== ix.syncedAt[p]) return false;
  }
  return true;
}

/** The index of `view`, rebuilt if the view's partitions changed since it was last built. */
export function viewIndex(view: SchedulerView): ViewIndex {
  let ix = cache.get(view);
  if (ix === undefined) {
    ix = build(view);
    cache.set(view, ix);
    return ix;
  }
  if (ix.generation === view.generation) return ix;
  ix.generation = view.generation;
  if (!unchanged(view, ix)) {
    if (view.partitions.length !== ix.lengths.length) {
      ix = build(view);
      cache.set(view, ix);
    } else {
      refill(view, ix);
    }
  }
  return ix;
}

/** Every node of the view, in one list (built on first use after a change). */
export function flatNodes(view: SchedulerView, index: ViewIndex): readonly ViewNode[] {
  const ix = index as CachedIndex;
  if (ix.flatStale) {
    ix.flat.length = 0;
    const parts = view.partitions;
    for (let p = 0; p < parts.length; p++) {
      const nodes = parts[p].nodes;
      for (let i = 0; i < nodes.length; i++) ix.flat.push(nodes[i]);
    }
    ix.flatStale = false;
  }
  return ix.flat;
}
