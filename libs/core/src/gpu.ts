/**
 * GPUs as devices (DESIGN §12). A node with `gpu: 8` has 8 devices of 1000 milli each; its
 * per-device state is one Float64Array of allocated milli per device index (`gpus`). A task asks
 * either for `gpu: n` whole devices (n distinct devices, each entirely free, booked 1000 milli
 * each) or for a share `gpu_milli` < 1000 (without `gpu`) that must fit on ONE device.
 *
 * The resource vectors keep their totals (`gpu` = whole devices booked, `gpu_milli` = milli booked
 * over all devices, whole ones as 1000 each): the per-device arrays are an extra, stricter check on
 * top of the vector fit, never a replacement for it. A space without `gpu` has no devices.
 *
 * Pure, allocation-free on the fit paths (placement filters call them per node).
 */
import { ConflictReason } from './reasons.ts';
import type { ResourceSpace, ResourceVector } from './resources.ts';

export const GPU_RESOURCE = 'gpu';
export const GPU_MILLI_RESOURCE = 'gpu_milli';
/** The node label naming its GPU model (constraints `gpu_model in [...]`). */
export const GPU_MODEL_LABEL = 'gpu_model';
/** Milli per device: one whole GPU. */
export const MILLI_PER_GPU = 1000;
/** Below this a device counts as free (milli are whole numbers in practice; this absorbs float dust). */
const FREE_EPSILON = 1e-9;

/** Where `gpu` and `gpu_milli` sit in a space's vectors (-1: the space lacks it). */
export interface GpuDims {
  readonly gpu: number;
  readonly milli: number;
}

const dimsBySpace = new WeakMap<ResourceSpace, GpuDims>();

export function gpuDims(space: ResourceSpace): GpuDims {
  let d = dimsBySpace.get(space);
  if (d === undefined) {
    d = Object.freeze({ gpu: space.indexOf(GPU_RESOURCE) ?? -1, milli: space.indexOf(GPU_MILLI_RESOURCE) ?? -1 });
    dimsBySpace.set(space, d);
  }
  return d;
}

/** Devices of a node with this capacity (`gpu`, whole devices only). */
export function deviceCountOf(capacity: ResourceVector, dims: GpuDims): number {
  if (dims.gpu < 0) return 0;
  const n = capacity[dims.gpu];
  return n >= 1 && Number.isFinite(n) ? Math.floor(n) : 0;
}

/** Whole devices a demand asks for (0 when none). */
export function wholeGpusOf(demand: ResourceVector, dims: GpuDims): number {
  return dims.gpu < 0 ? 0 : demand[dims.gpu];
}

/** The share of one device a demand asks for: its `gpu_milli` when it asks for no whole device. */
export function sharedMilliOf(demand: ResourceVector, dims: GpuDims): number {
  if (dims.milli < 0 || wholeGpusOf(demand, dims) > 0) return 0;
  return demand[dims.milli];
}

/** True when the demand needs devices (whole or shared). */
export function needsDevices(demand: ResourceVector, dims: GpuDims): boolean {
  return wholeGpusOf(demand, dims) > 0 || sharedMilliOf(demand, dims) > 0;
}

/**
 * A node's capacity with `gpu_milli` = `gpu` × 1000 when the space has both and the node gave
 * `gpu` devices: a node registered with `gpu: 8` alone has 8 × 1000 milli to share. Returns the
 * same vector when nothing changes.
 */
export function withDeviceMilli(capacity: ResourceVector, dims: GpuDims): ResourceVector {
  if (dims.gpu < 0 || dims.milli < 0) return capacity;
  const n = deviceCountOf(capacity, dims);
  if (n === 0 || capacity[dims.milli] === n * MILLI_PER_GPU) return capacity;
  const out = Float64Array.from(capacity);
  out[dims.milli] = n * MILLI_PER_GPU;
  return out;
}

/**
 * A task demand's GPU part is one a device can take: `gpu` whole (integer), and a share without
 * `gpu` at most one device (1000 milli). A whole-GPU demand's `gpu_milli` is `gpu` × 1000 or 0
 * (filled in by {@link withWholeMilli}). Returns the message of the first problem, or undefined.
 */
export function gpuDemandProblem(demand: ResourceVector, dims: GpuDims): { field: string; message: string } | undefined {
  const whole = wholeGpusOf(demand, dims);
  if (!Number.isInteger(whole)) return { field: GPU_RESOURCE, message: 'must be a whole number of GPUs (ask for a share of one GPU with gpu_milli)' };
  if (dims.milli < 0) return undefined;
  const milli = demand[dims.milli];
  if (whole === 0 && milli > MILLI_PER_GPU) {
    return { field: GPU_MILLI_RESOURCE, message: `a share of one GPU is at most ${MILLI_PER_GPU} milli; ask for whole GPUs with gpu` };
  }
  if (whole > 0 && milli !== 0 && milli !== whole * MILLI_PER_GPU) {
    return { field: GPU_MILLI_RESOURCE, message: `with gpu: ${whole} it must be ${whole * MILLI_PER_GPU} (whole devices) or left out` };
  }
  return undefined;
}

/** A whole-GPU demand with `gpu_milli` = `gpu` × 1000 (the vector total of its devices). Same vector when nothing changes. */
export function withWholeMilli(demand: ResourceVector, dims: GpuDims): ResourceVector {
  if (dims.milli < 0) return demand;
  const whole = wholeGpusOf(demand, dims);
  if (!(whole > 0) || demand[dims.milli] !== 0) return demand;
  const out = Float64Array.from(demand);
  out[dims.milli] = whole * MILLI_PER_GPU;
  return out;
}

function usedOf(gpus: Float64Array, reserved: Float64Array | undefined, i: number): number {
  return reserved === undefined || i >= reserved.length ? gpus[i] : gpus[i] + reserved[i];
}

/**
 * Whether the devices can take `whole` whole devices or a `share` of one, given what is
 * allocated per device (`gpus`) and optionally reserved on top (a scheduler's in-flight bookings).
 */
export function devicesFit(gpus: Float64Array | undefined, reserved: Float64Array | undefined, whole: number, share: number): boolean {
  if (whole === 0 && share === 0) return true;
  if (gpus === undefined) return false;
  if (whole > 0) {
    let free = 0;
    for (let i = 0; i < gpus.length; i++) if (usedOf(gpus, reserved, i) < FREE_EPSILON && ++free >= whole) return true;
    return false;
  }
  for (let i = 0; i < gpus.length; i++) if (usedOf(gpus, reserved, i) + share <= MILLI_PER_GPU) return true;
  return false;
}

/** Whether the devices of a node could ever take the demand (enough devices, a share ≤ one device). */
export function devicesEverFit(deviceCount: number, whole: number, share: number): boolean {
  if (whole > 0) return whole <= deviceCount;
  return share === 0 || (deviceCount > 0 && share <= MILLI_PER_GPU);
}

/**
 * Best-fit devices (FGD's `best` GPU selection, the default): a share goes on the fullest device
 * that still takes it (lowest index on ties); whole devices are the first free ones by index.
 * Undefined when the devices cannot take the demand; an empty list when it needs none.
 */
export function bestFitDevices(gpus: Float64Array | undefined, reserved: Float64Array | undefined, whole: number, share: number): number[] | undefined {
  if (whole === 0 && share === 0) return [];
  if (gpus === undefined) return undefined;
  if (whole > 0) {
    const out: number[] = [];
    for (let i = 0; i < gpus.length && out.length < whole; i++) if (usedOf(gpus, reserved, i) < FREE_EPSILON) out.push(i);
    return out.length === whole ? out : undefined;
  }
  let best = -1;
  let bestUsed = -1;
  for (let i = 0; i < gpus.length; i++) {
    const used = usedOf(gpus, reserved, i);
    if (used + share <= MILLI_PER_GPU && used > bestUsed) {
      best = i;
      bestUsed = used;
    }
  }
  return best < 0 ? undefined : [best];
}

/**
 * The committer's per-device check of a claim naming `devices` (DESIGN §12): the right number of
 * distinct device indexes of this node, whole devices entirely free, a share fitting its one
 * device — never over 1000 milli. `gpus` is the node's allocation per device as the transaction
 * leaves it so far. A claim without `devices` (older schedulers, older logs) is checked as "some
 * devices fit" and gets best-fit devices when applied.
 * Returns `invalid` for a malformed device list, `resources` when the devices are taken.
 */
export function checkClaimDevices(
  gpus: Float64Array | undefined,
  devices: readonly number[] | undefined,
  demand: ResourceVector,
  dims: GpuDims,
): ConflictReason | undefined {
  const whole = wholeGpusOf(demand, dims);
  const share = sharedMilliOf(demand, dims);
  if (!Number.isInteger(whole)) return ConflictReason.invalid;
  if (whole === 0 && share === 0) return devices === undefined || devices.length === 0 ? undefined : ConflictReason.invalid;
  if (devices === undefined) return devicesFit(gpus, undefined, whole, share) ? undefined : ConflictReason.resources;
  if (!Array.isArray(devices) || devices.length !== (whole > 0 ? whole : 1)) return ConflictReason.invalid;
  for (let k = 0; k < devices.length; k++) {
    const d = devices[k];
    if (!Number.isInteger(d) || d < 0) return ConflictReason.invalid;
    for (let j = 0; j < k; j++) if (devices[j] === d) return ConflictReason.invalid;
  }
  if (gpus === undefined) return ConflictReason.resources;
  for (const d of devices) {
    if (d >= gpus.length) return ConflictReason.resources;
    if (whole > 0 ? !(gpus[d] < FREE_EPSILON) : !(gpus[d] + share <= MILLI_PER_GPU)) return ConflictReason.resources;
  }
  return undefined;
}

/** Adds (sign 1) or removes (sign -1) a demand's booking on its devices, in place. */
export function bookDevices(gpus: Float64Array, devices: readonly number[], demand: ResourceVector, dims: GpuDims, sign: 1 | -1): void {
  const whole = wholeGpusOf(demand, dims);
  const milli = whole > 0 ? MILLI_PER_GPU : sharedMilliOf(demand, dims);
  for (const d of devices) {
    if (d < 0 || d >= gpus.length) continue;
    const v = gpus[d] + sign * milli;
    gpus[d] = v > FREE_EPSILON ? v : 0;
  }
}

/** Per-device allocation as a listing (`tessera nodes --json`: `gpus: [{index, allocated_milli}]`). */
export function gpuListing(gpus: Float64Array | undefined): { index: number; allocated_milli: number }[] {
  const out: { index: number; allocated_milli: number }[] = [];
  if (gpus !== undefined) for (let i = 0; i < gpus.length; i++) out.push({ index: i, allocated_milli: gpus[i] });
  return out;
}
