/**
 * Resource fit: the task's demand fits in capacity − allocated − reserved (this scheduler's
 * in-flight bookings count as taken). Tells "full now" (retrying may help) from "larger than
 * the node's capacity" (no amount of waiting will help on this node).
 */
import { fitsWith, FilterReason, type TaskRequest } from '@tessera/core';
import type { CandidateNode, FilterPlugin } from '../plugin.ts';

export const RESOURCE_FIT = 'resource-fit';

export function resourceFit(node: CandidateNode, demand: Float64Array): FilterReason | undefined {
  const cap = node.capacity;
  // The common case (it fits) costs one pass; only a refusal pays for telling "never" from "now".
  if (fitsWith(cap, node.allocated, node.reserved, demand)) return undefined;
  for (let i = 0; i < demand.length; i++) if (demand[i] > cap[i]) return FilterReason.resources_ever;
  return FilterReason.resources_now;
}

export const resourceFitFilter: FilterPlugin = {
  name: RESOURCE_FIT,
  unresolvable: [FilterReason.resources_ever],
  filter: (node: CandidateNode, task: TaskRequest) => resourceFit(node, task.demand),
};
