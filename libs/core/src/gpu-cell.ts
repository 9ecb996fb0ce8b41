/**
 * The authoritative cell's per-device bookkeeping (see gpu.ts): what CellState does with a node's
 * `gpus` when a node registers, a claim is applied, a task is released, or a snapshot is loaded.
 */
import {
  bestFitDevices, bookDevices, checkClaimDevices, deviceCountOf, needsDevices, sharedMilliOf, wholeGpusOf, type GpuDims,
} from './gpu.ts';
import type { Allocation, NodeState } from './node.ts';
import type { Claim } from './txn.ts';

/**
 * Re-derives a node's `gpus` from its capacity and allocations (booking order): on registration
 * (the device count may change), after a release (a re-sum is exact where a subtraction of
 * fractional shares may drift), and on load. A node without devices has none.
 */
export function rebuildDevices(n: NodeState, dims: GpuDims): void {
  const count = deviceCountOf(n.capacity, dims);
  if (count === 0) {
    if (n.gpus !== undefined) n.gpus = undefined;
    return;
  }
  const gpus = n.gpus !== undefined && n.gpus.length === count ? n.gpus : new Float64Array(count);
  gpus.fill(0);
  for (const a of n.allocations.values()) if (a.devices !== undefined) bookDevices(gpus, a.devices, a.demand, dims, 1);
  n.gpus = gpus;
}

/**
 * Books a validated claim's devices on its node and returns them (undefined when it needs none).
 * A claim without `devices` (an older scheduler, a commit log written before devices) gets the
 * best-fit devices; if none fit (an old log that over-booked a device) it holds no device and
 * counts only in the resource totals.
 */
export function applyDevices(n: NodeState, c: Claim, dims: GpuDims): readonly number[] | undefined {
  if (!needsDevices(c.demand, dims)) return undefined;
  const devices = c.devices ?? bestFitDevices(n.gpus, undefined, wholeGpusOf(c.demand, dims), sharedMilliOf(c.demand, dims)) ?? [];
  if (n.gpus !== undefined) bookDevices(n.gpus, devices, c.demand, dims, 1);
  return devices;
}

/**
 * One allocation of a snapshot being loaded onto `n` (whose `gpus` holds the allocations loaded
 * before it): devices named are checked like a claim's (an inconsistent snapshot is refused through
 * `fail`); an allocation from a snapshot written before devices gets best-fit ones. Returns the
 * allocation to keep (a copy when devices were added) and books its devices.
 */
export function importDevices(n: NodeState, a: Allocation, dims: GpuDims, fail: (msg: string) => never): Allocation {
  if (!needsDevices(a.demand, dims)) {
    if (a.devices !== undefined && a.devices.length > 0) fail(`allocation of ${a.taskId}: names GPU devices but asks for no GPU`);
    return a;
  }
  let out = a;
  if (a.devices === undefined) {
    const picked = bestFitDevices(n.gpus, undefined, wholeGpusOf(a.demand, dims), sharedMilliOf(a.demand, dims)) ?? [];
    out = { ...a, devices: picked };
  } else if (checkClaimDevices(n.gpus, a.devices, a.demand, dims) !== undefined) {
    fail(`allocation of ${a.taskId}: GPU devices [${a.devices.join(',')}] do not fit node ${n.id}`);
  }
  if (n.gpus !== undefined) bookDevices(n.gpus, out.devices!, out.demand, dims, 1);
  return out;
}
