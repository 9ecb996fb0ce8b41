/**
 * Node lifecycle decisions (DESIGN §12), pure: which `lifecycle` record an operator's request
 * becomes, and which draining nodes are due to end `drained` (empty, or past their deadline).
 * Applying the records is `applyRecord`'s (model.ts), so replay and the standby agree.
 */
import type { NodeAdminReply, NodeAdminRequest } from '@tessera/protocol';
import type { LifecycleRecord } from './log-records.ts';
import type { CellModel } from './model.ts';

export interface LifecyclePlan {
  /** Records to append, in order (a drain with no deadline is also drained at once). */
  readonly records: LifecycleRecord[];
  readonly unknown: string[];
}

export function planLifecycle(model: CellModel, req: NodeAdminRequest, now: number): LifecyclePlan {
  const known: string[] = [];
  const unknown: string[] = [];
  for (const id of new Set(req.nodes)) (model.cell.node(id) !== undefined ? known : unknown).push(id);
  if (known.length === 0) return { records: [], unknown };
  if (req.op !== 'drain') return { records: [{ t: 'lifecycle', op: req.op, nodes: known }], unknown };
  const deadline = now + (req.deadlineS ?? 0) * 1000;
  return { records: [{ t: 'lifecycle', op: 'drain', nodes: known, deadline }], unknown };
}

/**
 * Draining nodes to mark drained now: those with nothing left on them, and those whose deadline
 * passed. A draining node without a known deadline (the cell-state restarted from a snapshot
 * taken after its drain record) is due at once.
 */
export function drainsDue(model: CellModel, now: number): string[] {
  const due: string[] = [];
  for (const n of model.cell.nodes) {
    if (n.condition !== 'draining') continue;
    const deadline = model.drainDeadlines.get(n.id) ?? -Infinity;
    if (n.allocations.size === 0 || deadline <= now) due.push(n.id);
  }
  return due;
}

export function lifecycleReply(model: CellModel, req: NodeAdminRequest, unknown: readonly string[]): NodeAdminReply {
  const nodes: NodeAdminReply['nodes'] = [];
  for (const id of new Set(req.nodes)) {
    const n = model.cell.node(id);
    if (n !== undefined) nodes.push({ id, state: n.condition, tasks: n.allocations.size });
  }
  return { ok: true, nodes, unknown: [...unknown] };
}
