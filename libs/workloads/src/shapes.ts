/**
 * Unit scales for the normalized traces, the machine shapes built from them, and the synthetic
 * zone/rack topology. Every number that is a choice rather than a trace value lives here, with the
 * reason for it; the README's "Mapping rules" section repeats them.
 */
import { fnv1a } from '@tessera/core';
import type { MachineRecord } from './types.ts';

/** Whole numbers of a thousandth of a unit: removes float noise from `norm × scale` products. */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * alibaba2017 memory: the trace publishes memory only normalized (largest machine = 1.0) and no
 * absolute size anywhere (trace_201708.md: "each dimension is normalized independently"). We set
 * mem_norm 1.0 = 256 GiB. This is a convention, not a trace value: tasks and machines are scaled by
 * the same factor, so which tasks fit on which machine is exactly as in the trace whatever the
 * constant; it only matters when alibaba2017 jobs meet nodes from elsewhere. Override per reader
 * with `memMibPerNorm`.
 */
export const ALIBABA2017_MEM_MIB_PER_NORM = 262_144;

/** alibaba2017 CPU is not normalized: plan_cpu is in hundredths of a core, every machine has 64. */
export const ALIBABA2017_MACHINE_CORES = 64;

/** mem_norm of 1 300 of the 1 313 alibaba2017 machines (12 have 1.0, one has 0.5748). */
export const ALIBABA2017_COMMON_MEM_NORM = 0.6899697150104833;

/**
 * google2011 has CPU and memory normalized to the largest machine (= 1.0) and no machine table
 * here. We set 1.0 = 32 cores / 128 GiB. Again a convention: the largest task asks for 0.5 CPU
 * and 0.955 memory, so every task fits the 1.0 machine, as in the trace. Real Borg cells of 2011
 * were heterogeneous (most machines smaller than the largest), so a cell of n nodes of this shape
 * has more capacity than the traced cell of n machines; size experiments by offered load
 * (`speedForUtilisation`), not by machine count.
 */
export const GOOGLE2011_CPU_MILLIS_PER_NORM = 32_000;
export const GOOGLE2011_MEM_MIB_PER_NORM = 131_072;

export interface ScaleOptions {
  /** alibaba2017: MiB per unit of mem_norm (default {@link ALIBABA2017_MEM_MIB_PER_NORM}). */
  readonly memMibPerNorm?: number;
  /** google2011: millicores per unit of cpu_norm (default {@link GOOGLE2011_CPU_MILLIS_PER_NORM}). */
  readonly googleCpuMillisPerNorm?: number;
  /** google2011: MiB per unit of mem_norm (default {@link GOOGLE2011_MEM_MIB_PER_NORM}). */
  readonly googleMemMibPerNorm?: number;
}

/** Node shapes for synthetic cells of any size. */
export const CELL_SHAPES = {
  /** The common alibaba2017 machine: 64 cores, mem_norm 0.69 on the 256 GiB-per-1.0 scale. */
  alibaba2017: Object.freeze({
    cpu_millis: ALIBABA2017_MACHINE_CORES * 1000,
    mem_mib: round3(ALIBABA2017_COMMON_MEM_NORM * ALIBABA2017_MEM_MIB_PER_NORM),
  }),
  /** The google2011 "1.0" machine on the 32 cores / 128 GiB scale. */
  google2011: Object.freeze({ cpu_millis: GOOGLE2011_CPU_MILLIS_PER_NORM, mem_mib: GOOGLE2011_MEM_MIB_PER_NORM }),
  /** The most common alibaba_gpu2023 node (549 of 1 523): 96 cores, 384 GiB, 8 × G2. */
  alibaba_gpu2023: Object.freeze({ cpu_millis: 96_000, mem_mib: 393_216, gpu: 8, gpu_milli: 8000 }),
} as const;

/**
 * Synthetic topology. None of the traces has zones or racks, so labels are derived from the
 * machine's ordinal: `rackSize` consecutive machines share a rack, and racks are dealt round-robin
 * over `zones` zones (so every zone gets the same share of any contiguous id range).
 */
export interface TopologyOptions {
  /** Machines per rack (default 40). */
  readonly rackSize?: number;
  /** Number of zones (default 4), named a, b, c, … (aa, ab, … after z). */
  readonly zones?: number;
}

export const DEFAULT_RACK_SIZE = 40;
export const DEFAULT_ZONES = 4;

export function zoneName(k: number): string {
  let s = '';
  let n = k;
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return s;
}

/** `{ zone, rack }` for the machine with this 0-based ordinal. */
export function syntheticTopology(ordinal: number, options: TopologyOptions = {}): { zone: string; rack: string } {
  const rackSize = options.rackSize ?? DEFAULT_RACK_SIZE;
  const zones = options.zones ?? DEFAULT_ZONES;
  if (!Number.isInteger(rackSize) || rackSize < 1) throw new RangeError(`rackSize must be an integer ≥ 1, got ${rackSize}`);
  if (!Number.isInteger(zones) || zones < 1) throw new RangeError(`zones must be an integer ≥ 1, got ${zones}`);
  const rack = Math.floor(ordinal / rackSize);
  return { zone: zoneName(rack % zones), rack: `r${rack}` };
}

/**
 * A machine id's ordinal for the topology: the trailing decimal number when there is one
 * (alibaba2017 ids are 1-based numbers, openb ids end in a 4-digit index), else an FNV-1a hash,
 * so it is a deterministic function of the id alone.
 */
export function machineOrdinal(id: string, oneBased = false): number {
  const m = /(\d{1,15})$/.exec(id);
  if (m !== null) return Math.max(0, Number(m[1]) - (oneBased ? 1 : 0));
  return fnv1a(id);
}

export interface SyntheticCellOptions {
  /** Node ids are `${idPrefix}${index}` with the index zero-padded to the width of n−1 (default `node-`). */
  readonly idPrefix?: string;
  readonly topology?: TopologyOptions;
  /** Extra labels on every node (e.g. `{ gpu_model: 'G2' }`). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** n identical nodes of `shape` with deterministic zone/rack labels. */
export function syntheticCell(n: number, shape: Readonly<Record<string, number>>, options: SyntheticCellOptions = {}): MachineRecord[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`syntheticCell: n must be an integer ≥ 0, got ${n}`);
  for (const [name, v] of Object.entries(shape)) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`syntheticCell: shape.${name} must be a finite number ≥ 0, got ${v}`);
  }
  const prefix = options.idPrefix ?? 'node-';
  const width = String(Math.max(0, n - 1)).length;
  const capacity = Object.freeze({ ...shape });
  const out: MachineRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: prefix + String(i).padStart(width, '0'),
      labels: { ...options.labels, ...syntheticTopology(i, options.topology) },
      capacity,
    };
  }
  return out;
}
