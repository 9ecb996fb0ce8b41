/** An eviction must name a task that is still placed on that node (where the scheduler saw it). */
import type { Allocation, NodeState } from '../node.ts';
import { ConflictReason } from '../reasons.ts';
import type { Eviction } from '../txn.ts';
import type { EvictionCheck } from './check.ts';

export const VICTIM_PRESENT_CHECK = 'victim-present';

export const victimPresentCheck: EvictionCheck = {
  name: VICTIM_PRESENT_CHECK,
  check: (e: Eviction, a: Allocation | undefined, node: NodeState | undefined) =>
    a === undefined || node === undefined || a.nodeId !== e.nodeId ? ConflictReason.victim_gone : undefined,
};
