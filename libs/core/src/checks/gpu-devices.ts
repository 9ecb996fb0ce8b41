/**
 * GPU devices (DESIGN §12): the claim's device indexes are distinct devices of the node, whole
 * GPUs entirely free and a share fitting its one device — never over 1000 milli — on the node as
 * the transaction leaves it (evictions out, its earlier accepted claims in). A claim naming no
 * devices (older schedulers) passes when some devices fit; the cell books best-fit ones.
 */
import { bestFitDevices, bookDevices, checkClaimDevices, gpuDims, needsDevices, sharedMilliOf, wholeGpusOf } from '../gpu.ts';
import type { NodeState } from '../node.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const GPU_DEVICES_CHECK = 'gpu-devices';

type Booked = Map<NodeState, Float64Array>;

/** The node's per-device allocation as the transaction leaves it so far (undefined: no devices). */
function devicesOn(node: NodeState, txn: TxnScope, booked: Booked): Float64Array | undefined {
  if (node.gpus === undefined) return undefined;
  let b = booked.get(node);
  if (b === undefined) {
    const evicted = txn.evicted;
    let touched = false;
    if (evicted !== undefined) for (const a of node.allocations.values()) if (evicted.has(a.taskId) && a.devices !== undefined) touched = true;
    if (!touched) return node.gpus;
    b = new Float64Array(node.gpus.length);
    const dims = gpuDims(txn.cell.space);
    for (const a of node.allocations.values()) if (a.devices !== undefined && !evicted!.has(a.taskId)) bookDevices(b, a.devices, a.demand, dims, 1);
    booked.set(node, b);
  }
  return b;
}

const newBooked = (): Booked => new Map();

export const gpuDevicesCheck: ClaimCheck = {
  name: GPU_DEVICES_CHECK,
  check: (claim: Claim, node: NodeState | undefined, txn: TxnScope) => {
    const dims = gpuDims(txn.cell.space);
    if (!needsDevices(claim.demand, dims) && (claim.devices === undefined || claim.devices.length === 0)) return undefined;
    return checkClaimDevices(devicesOn(node!, txn, txn.stateOf(gpuDevicesCheck, newBooked)), claim.devices, claim.demand, dims);
  },
  accepted: (claim: Claim, node: NodeState, txn: TxnScope) => {
    const dims = gpuDims(txn.cell.space);
    if (!needsDevices(claim.demand, dims) || node.gpus === undefined) return;
    const booked = txn.stateOf(gpuDevicesCheck, newBooked);
    const now = devicesOn(node, txn, booked)!;
    let b = booked.get(node);
    if (b === undefined) booked.set(node, (b = Float64Array.from(now)));
    const devices = claim.devices ?? bestFitDevices(b, undefined, wholeGpusOf(claim.demand, dims), sharedMilliOf(claim.demand, dims)) ?? [];
    bookDevices(b, devices, claim.demand, dims, 1);
  },
};
