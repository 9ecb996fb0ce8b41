/**
 * The GPU devices a placed task takes (DESIGN §12), chosen when its placement is booked: by the
 * first weighted scorer of the pipeline that chooses devices (FGD's `-gpusel` follows its score
 * policy), else best fit. Undefined for a task without GPUs, and when the scorer's choice is none
 * (e.g. a post-filter's node whose devices free up only with its evictions): the committer then
 * books best-fit devices on the state the transaction leaves.
 */
import { bestFitDevices, gpuDims, sharedMilliOf, wholeGpusOf, type TaskRequest, type ViewNode } from '@tessera/core';
import type { PlacementContext } from '../context.ts';

export function devicesFor(ctx: PlacementContext, node: ViewNode, task: TaskRequest): readonly number[] | undefined {
  const dims = gpuDims(ctx.view.space);
  const whole = wholeGpusOf(task.demand, dims);
  const share = sharedMilliOf(task.demand, dims);
  if (whole === 0 && share === 0) return undefined;
  const { scorers, weights } = ctx.pipeline;
  for (let i = 0; i < scorers.length; i++) {
    const s = scorers[i];
    if (weights[i] > 0 && s.devices !== undefined) return s.devices(node, task, ctx);
  }
  return bestFitDevices(node.gpus, node.reservedGpus, whole, share);
}
