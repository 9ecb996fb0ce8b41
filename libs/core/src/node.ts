/** Nodes: identity, labels, capacity, allocations, condition and a version. */
import type { Labels } from './constraints.ts';
import type { ResourceVector } from './resources.ts';

/**
 * `ready` takes placements; `lost` stopped heartbeating; the administrative states of DESIGN §12:
 * `cordoned` (no new placements), `draining` (cordoned, its tasks being re-placed), `drained`
 * (cordoned and empty). Appended in this order: snapshots store the index.
 */
export type NodeCondition = 'ready' | 'draining' | 'lost' | 'cordoned' | 'drained';
export const NODE_CONDITIONS: readonly NodeCondition[] = ['ready', 'draining', 'lost', 'cordoned', 'drained'];
/** Set by an operator (cordon/drain), kept when the node's agent registers it again. */
export const ADMINISTRATIVE_CONDITIONS: readonly NodeCondition[] = ['cordoned', 'draining', 'drained'];

/**
 * The state of one node as schedulers see it: what a partition sync carries and what a view
 * holds. `version` increases on every change to the node (it is the partition version at which
 * the node last changed, so "partition p since v" = nodes of p with version > v).
 */
export interface NodeSnapshot {
  readonly id: string;
  readonly partition: number;
  labels: Labels;
  capacity: ResourceVector;
  allocated: ResourceVector;
  condition: NodeCondition;
  version: number;
  /**
   * Allocated milli per GPU device (index = device index; see gpu.ts); undefined for a node
   * without devices. Replaced, never changed in place, on a snapshot; the authoritative node
   * updates its own copy.
   */
  gpus?: Float64Array;
}

/** One task's booking on a node, as the authoritative cell keeps it. */
export interface Allocation {
  readonly taskId: string;
  readonly jobId: string;
  readonly nodeId: string;
  readonly demand: ResourceVector;
  /** The GPU devices it holds (whole ones, or the one it shares); absent when it holds none. */
  readonly devices?: readonly number[];
  /** Commit-log sequence (or logical time) at which it was committed. */
  readonly committedAt: number;
  /** The job's leaf queue path; absent = `default`. */
  readonly queue?: string;
  readonly preemptible?: boolean;
}

/** The authoritative node: a snapshot plus the allocations that make up `allocated`. */
export interface NodeState extends NodeSnapshot {
  readonly index: number;
  readonly allocations: Map<string, Allocation>;
}
