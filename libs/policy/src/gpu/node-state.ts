/**
 * What the GPU scorers read of a node: CPU left, free milli per device (allocated and this
 * scheduler's in-flight bookings both count as taken), GPU model. `ViewNode` carries `gpus` and
 * `reservedGpus`; a plain test object may too.
 */
import { GPU_MODEL_LABEL, gpuDims, type GpuDims, type ResourceSpace } from '@tessera/core';
import type { ScoredNode } from '../plugin.ts';
import { freeInto, type FragNode } from './frag.ts';

export interface GpuScoredNode extends ScoredNode {
  readonly gpus?: Float64Array | undefined;
  readonly reservedGpus?: Float64Array | undefined;
}

/** Largest device count a node may have that the scratch buffers hold without growing. */
const DEVICES = 64;

/** A reusable FragNode over one scored node (one per plugin instance; filled per call, never kept across calls). */
export class FragScratch implements FragNode {
  cpuLeft = 0;
  devices = 0;
  model: string | undefined = undefined;
  free = new Float64Array(DEVICES);
  private readonly cpuIx: number;
  readonly dims: GpuDims;

  constructor(space: ResourceSpace) {
    this.cpuIx = space.indexOf('cpu_millis') ?? -1;
    this.dims = gpuDims(space);
  }

  /** Loads `node`'s state. */
  load(node: GpuScoredNode): this {
    const c = this.cpuIx;
    this.cpuLeft = c < 0 ? 0 : node.capacity[c] - node.allocated[c] - (node.reserved === undefined ? 0 : node.reserved[c]);
    const n = node.gpus?.length ?? 0;
    if (n > this.free.length) this.free = new Float64Array(n);
    this.devices = n;
    freeInto(this.free, node.gpus, node.reservedGpus, n);
    this.model = node.labels?.[GPU_MODEL_LABEL];
    return this;
  }

  /** Copies another scratch's state (for what-if evaluation). */
  copyFrom(o: FragScratch): this {
    this.cpuLeft = o.cpuLeft;
    this.devices = o.devices;
    this.model = o.model;
    if (o.devices > this.free.length) this.free = new Float64Array(o.devices);
    for (let i = 0; i < o.devices; i++) this.free[i] = o.free[i];
    return this;
  }
}
