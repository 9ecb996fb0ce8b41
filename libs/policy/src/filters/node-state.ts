/**
 * Node state: only `ready` nodes take new tasks. `draining` and `lost` nodes may come back, so
 * this rejection is retryable.
 */
import { FilterReason } from '@tessera/core';
import type { CandidateNode, FilterPlugin } from '../plugin.ts';

export const NODE_STATE = 'node-state';

export function nodeReady(node: CandidateNode): FilterReason | undefined {
  return node.condition === 'ready' ? undefined : FilterReason.node_not_ready;
}

export const nodeStateFilter: FilterPlugin = {
  name: NODE_STATE,
  unresolvable: [],
  filter: (node: CandidateNode) => nodeReady(node),
};
