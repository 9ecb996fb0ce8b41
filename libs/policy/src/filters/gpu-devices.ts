/**
 * GPU devices (DESIGN §12): a share of one GPU must fit on a single device, `gpu: n` needs n
 * entirely free devices (allocated and this scheduler's in-flight bookings count as taken). The
 * resource totals are checked by resource-fit; this is the per-device check on top. A node
 * without per-device state (an older cell-state) is left to resource-fit.
 */
import { devicesEverFit, devicesFit, FilterReason, gpuDims, sharedMilliOf, wholeGpusOf, type ResourceSpace, type TaskRequest } from '@tessera/core';
import type { GpuScoredNode } from '../gpu/node-state.ts';
import type { CandidateNode, FilterPlugin } from '../plugin.ts';

export const GPU_DEVICES = 'gpu-devices';

export function createGpuDevicesFilter(_args: unknown, h: { readonly space: ResourceSpace }): FilterPlugin {
  const dims = gpuDims(h.space);
  return {
    name: GPU_DEVICES,
    unresolvable: [FilterReason.resources_ever],
    filter: (node: CandidateNode, task: TaskRequest) => {
      const whole = wholeGpusOf(task.demand, dims);
      const share = sharedMilliOf(task.demand, dims);
      if (whole === 0 && share === 0) return undefined;
      const n = node as CandidateNode & GpuScoredNode;
      if (n.gpus === undefined) return undefined;
      if (devicesFit(n.gpus, n.reservedGpus, whole, share)) return undefined;
      return devicesEverFit(n.gpus.length, whole, share) ? FilterReason.resources_now : FilterReason.resources_ever;
    },
  };
}
