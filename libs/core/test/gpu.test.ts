/** GPU devices in the core (DESIGN §12): per-device fit, the committer's device check, and the cell's bookkeeping. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bestFitDevices, CellState, checkClaimDevices, Committer, ConflictReason, devicesFit, gpuDims, ResourceSpace, validateJobSpec,
  expandTasks, type Claim,
} from '../src/index.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);
const dims = gpuDims(space);
const demand = (gpu: number, milli: number, cpu = 0) => Float64Array.of(cpu, 0, gpu, milli);
const used = (...milli: number[]) => Float64Array.from(milli);

describe('per-device fit', () => {
  it.each([
    { name: 'a 600-milli share never spans two half-free devices', gpus: used(500, 500), whole: 0, share: 600, fits: false },
    { name: 'a 600-milli share fits a device with 400 used', gpus: used(500, 400), whole: 0, share: 600, fits: true },
    { name: 'a share takes a whole free device', gpus: used(1000, 0), whole: 0, share: 1000, fits: true },
    { name: 'whole GPUs need entirely free devices', gpus: used(10, 0, 0), whole: 3, share: 0, fits: false },
    { name: 'two whole GPUs on two free devices', gpus: used(10, 0, 0), whole: 2, share: 0, fits: true },
    { name: 'no devices, no GPU task', gpus: undefined, whole: 1, share: 0, fits: false },
    { name: 'no GPU asked, no devices needed', gpus: undefined, whole: 0, share: 0, fits: true },
  ])('$name', ({ gpus, whole, share, fits }) => {
    expect(devicesFit(gpus, undefined, whole, share)).toBe(fits);
  });

  it('counts in-flight reservations as taken', () => {
    expect(devicesFit(used(0, 500), used(600, 0), 0, 600)).toBe(false);
    expect(devicesFit(used(0, 0), used(0, 1), 2, 0)).toBe(false);
  });

  it.each([
    { name: 'a share goes on the fullest device that takes it', gpus: used(0, 700, 300, 200), whole: 0, share: 300, want: [1] },
    { name: 'ties: the lowest index', gpus: used(300, 300), whole: 0, share: 300, want: [0] },
    { name: 'whole GPUs: the first free devices by index', gpus: used(0, 100, 0, 0), whole: 2, share: 0, want: [0, 2] },
    { name: 'none fit', gpus: used(600, 600), whole: 0, share: 600, want: undefined },
  ])('best fit: $name', ({ gpus, whole, share, want }) => {
    expect(bestFitDevices(gpus, undefined, whole, share)).toEqual(want);
  });
});

describe('the committer checks per device', () => {
  it.each([
    { name: 'a share on a device with room', gpus: used(400, 0), devices: [0], d: demand(0, 600), want: undefined },
    { name: 'a share over 1000 milli on its device', gpus: used(500, 0), devices: [0], d: demand(0, 600), want: ConflictReason.resources },
    { name: 'a share naming two devices', gpus: used(0, 0), devices: [0, 1], d: demand(0, 600), want: ConflictReason.invalid },
    { name: 'whole GPUs on one device twice', gpus: used(0, 0), devices: [1, 1], d: demand(2, 2000), want: ConflictReason.invalid },
    { name: 'whole GPUs on a shared device', gpus: used(0, 100), devices: [0, 1], d: demand(2, 2000), want: ConflictReason.resources },
    { name: 'whole GPUs on free devices', gpus: used(0, 100, 0), devices: [2, 0], d: demand(2, 2000), want: undefined },
    { name: 'a device the node does not have', gpus: used(0, 0), devices: [5], d: demand(1, 1000), want: ConflictReason.resources },
    { name: 'devices named without a GPU demand', gpus: used(0), devices: [0], d: demand(0, 0, 100), want: ConflictReason.invalid },
    { name: 'no devices named (older scheduler): some must fit', gpus: used(500, 500), devices: undefined, d: demand(0, 600), want: ConflictReason.resources },
  ])('$name', ({ gpus, devices, d, want }) => {
    expect(checkClaimDevices(gpus, devices, d, dims)).toBe(want);
  });
});

function gpuCell(gpusPerNode = 2, nodes = 1): CellState {
  const cell = new CellState(space, 1);
  for (let i = 0; i < nodes; i++) cell.upsertNode({ id: `n${i}`, labels: {}, capacity: Float64Array.of(64_000, 256_000, gpusPerNode, 0) });
  return cell;
}

const claim = (taskId: string, d: Float64Array, devices?: number[], nodeId = 'n0'): Claim => ({ taskId, jobId: 'j', nodeId, demand: d, seenVersion: 0, devices });

describe('the cell books devices', () => {
  it('a node with gpu: 8 has 8 devices of 1000 milli (gpu_milli derived)', () => {
    const n = gpuCell(8).node('n0')!;
    expect(n.gpus).toEqual(new Float64Array(8));
    expect(n.capacity[dims.milli]).toBe(8000);
  });

  it('books, lists and releases per device; whole GPUs take distinct devices', () => {
    const cell = gpuCell(4);
    cell.applyClaims([claim('a', demand(0, 600), [2]), claim('b', demand(2, 2000), [0, 3]), claim('c', demand(0, 300))], 1);
    const n = cell.node('n0')!;
    // c named no devices (an older scheduler): best fit, the fullest device that takes it.
    expect(Array.from(n.gpus!)).toEqual([1000, 0, 900, 1000]);
    expect(cell.allocationOf('c')!.devices).toEqual([2]);
    cell.release('b');
    expect(Array.from(n.gpus!)).toEqual([0, 0, 900, 0]);
  });

  it('snapshots carry devices and old snapshots without them load with best-fit devices', () => {
    const cell = gpuCell(2);
    cell.applyClaims([claim('a', demand(0, 600), [1])], 1);
    const data = cell.exportState();
    const copy = new CellState(space, 1);
    copy.importState(data);
    expect(Array.from(copy.node('n0')!.gpus!)).toEqual([0, 600]);
    const legacy = { ...data, allocations: data.allocations.map(({ devices: _d, ...a }) => a) };
    const old = new CellState(space, 1);
    old.importState(legacy);
    expect(old.allocationOf('a')!.devices).toEqual([0]);
    const bad = { ...data, allocations: data.allocations.map((a) => ({ ...a, devices: [7] })) };
    expect(() => new CellState(space, 1).importState(bad)).toThrow(/GPU devices \[7\] do not fit node n0/);
  });
});

describe('jobs ask devices sensibly', () => {
  it.each([
    [{ gpu: 1.5 }, 'tasks[0].resources.gpu'],
    [{ gpu_milli: 1500 }, 'tasks[0].resources.gpu_milli'],
    [{ gpu: 2, gpu_milli: 500 }, 'tasks[0].resources.gpu_milli'],
  ])('refuses %j at %s', (resources, path) => {
    const r = validateJobSpec({ id: 'j', tasks: [{ name: 't', count: 1, resources }] }, space);
    expect(r.ok ? undefined : r.error.path).toBe(path);
  });

  it('a whole-GPU task also books its milli', () => {
    const r = validateJobSpec({ id: 'j', tasks: [{ name: 't', count: 1, resources: { gpu: 2 } }] }, space);
    expect(r.ok && Array.from(expandTasks(r.job, space)[0].demand)).toEqual([0, 0, 2, 2000]);
  });
});
describe('property: no device is ever over 1000 milli under racing replicas', () => {
  it('holds for random shares and whole GPUs proposed on stale device views', () => {
    const task = fc.record({ whole: fc.constantFrom(0, 0, 0, 1, 2), share: fc.integer({ min: 1, max: 1000 }), node: fc.integer({ min: 0, max: 2 }), device: fc.nat(3) });
    fc.assert(fc.property(fc.array(fc.array(task, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 30 }), (rounds) => {
      const cell = gpuCell(4, 3);
      const committer = new Committer(cell, { granularity: 'fine' });
      let k = 0;
      for (const round of rounds) {
        // Every replica decided on the same (now stale) state: the committer sees them race.
        for (const t of round) {
          const d = t.whole > 0 ? demand(t.whole, t.whole * 1000) : demand(0, t.share);
          const devices = t.whole > 0 ? Array.from({ length: t.whole }, (_, i) => (t.device + i) % 4) : [t.device];
          committer.commit({ id: `x${k}`, schedulerId: `s${k % 3}`, kind: 'incremental', claims: [claim(`t${k++}`, d, devices, `n${t.node}`)] }, k);
        }
        for (const n of cell.nodes) {
          let sum = 0;
          for (const g of n.gpus!) {
            if (!(g <= 1000)) return false;
            sum += g;
          }
          if (sum !== n.allocated[dims.milli]) return false;
        }
      }
      return true;
    }), { numRuns: 150 });
  });
});
