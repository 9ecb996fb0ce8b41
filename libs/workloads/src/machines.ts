/**
 * Machine files → {@link MachineRecord}s (`{ id, labels, capacity }`), and from there core
 * `NodeRegistration`s.
 *
 * Mapping rules (also in workloads/README.md):
 * - alibaba2017 (`server_event.csv`): id = machine id; cpu_millis = cores × 1000 (64 on every
 *   machine); mem_mib = mem_norm × memMibPerNorm (the same scale as the jobs, default 1.0 = 256 GiB).
 *   disk and the 39 softerror events are not carried over (the machines stay ready).
 * - alibaba_gpu2023 (`openb_node_list_all_node.csv`): cpu_millis, mem_mib copied; gpu = the node's
 *   GPUs and gpu_milli = gpus × 1000 (see alibabaGpu2023.ts for why both); label `gpu_model` when
 *   the node has GPUs.
 * - tessera: `{ id, labels?, capacity }` records as they are.
 * - zone/rack labels for the two traces are SYNTHETIC (neither trace has any): derived from the
 *   machine id's ordinal by `syntheticTopology` (40 machines per rack, racks dealt round-robin over
 *   4 zones a–d by default). A tessera record's own labels are kept as given.
 */
import { ResourceSpace, isResourceError, type NodeRegistration } from '@tessera/core';
import { FieldError, isObj, nonNegative, optionalStr, str, type Obj } from './fields.ts';
import { GPU_MODEL_LABEL } from './alibabaGpu2023.ts';
import { fileRecords, type SourceRecord } from './reader.ts';
import { ALIBABA2017_MEM_MIB_PER_NORM, machineOrdinal, round3, syntheticTopology, type TopologyOptions } from './shapes.ts';
import { SKIP_REASONS, type MachineFormat, type MachineRecord, type MachineStats, type SkipReason } from './types.ts';

export interface MachineOptions {
  readonly format?: MachineFormat;
  /** alibaba2017: MiB per unit of mem_norm (default {@link ALIBABA2017_MEM_MIB_PER_NORM}). */
  readonly memMibPerNorm?: number;
  readonly topology?: TopologyOptions;
  /** Prepended to every machine id. */
  readonly idPrefix?: string;
  /** How many skip examples to keep (default 20). */
  readonly maxExamples?: number;
}

export type MachineResult = { readonly ok: true; readonly machine: MachineRecord } | { readonly ok: false; readonly reason: SkipReason; readonly message: string };

export function detectMachineFormat(rec: unknown): MachineFormat | undefined {
  if (!isObj(rec)) return undefined;
  if ('cpu_cores' in rec) return 'alibaba2017';
  if ('machine' in rec && ('num_gpu' in rec || 'cpu_millis' in rec)) return 'alibaba_gpu2023';
  if ('id' in rec && 'capacity' in rec) return 'tessera';
  return undefined;
}

export function convertMachine(rec: unknown, options: MachineOptions = {}): MachineResult {
  const format = options.format ?? detectMachineFormat(rec);
  if (format === undefined || !isObj(rec)) return { ok: false, reason: SKIP_REASONS.unknownFormat, message: 'the record matches no known machine format' };
  const r = machineOf(format, rec, options);
  return r instanceof FieldError ? { ok: false, reason: SKIP_REASONS.invalidRecord, message: r.message } : { ok: true, machine: r };
}

function machineOf(format: MachineFormat, rec: Obj, options: MachineOptions): MachineRecord | FieldError {
  const prefix = options.idPrefix ?? '';
  switch (format) {
    case 'alibaba2017': {
      const id = str(rec, 'machine', 'machine');
      if (id instanceof FieldError) return id;
      const cores = nonNegative(rec, 'cpu_cores', 'machine');
      if (cores instanceof FieldError) return cores;
      const mem = nonNegative(rec, 'mem_norm', 'machine');
      if (mem instanceof FieldError) return mem;
      return {
        id: prefix + id,
        // alibaba2017 ids are 1-based numbers: machine 1 is ordinal 0, the first of rack r0.
        labels: syntheticTopology(machineOrdinal(id, true), options.topology),
        capacity: { cpu_millis: cores * 1000, mem_mib: round3(mem * (options.memMibPerNorm ?? ALIBABA2017_MEM_MIB_PER_NORM)) },
      };
    }
    case 'alibaba_gpu2023': {
      const id = str(rec, 'machine', 'machine');
      if (id instanceof FieldError) return id;
      const cpu = nonNegative(rec, 'cpu_millis', 'machine');
      if (cpu instanceof FieldError) return cpu;
      const mem = nonNegative(rec, 'mem_mib', 'machine');
      if (mem instanceof FieldError) return mem;
      const gpus = nonNegative(rec, 'num_gpu', 'machine');
      if (gpus instanceof FieldError) return gpus;
      if (!Number.isInteger(gpus)) return new FieldError(`machine.num_gpu must be an integer, got ${gpus}`);
      const model = optionalStr(rec, 'gpu_model', 'machine');
      if (model instanceof FieldError) return model;
      const labels: Record<string, string> = { ...syntheticTopology(machineOrdinal(id), options.topology) };
      if (model !== null) labels[GPU_MODEL_LABEL] = model;
      return { id: prefix + id, labels, capacity: { cpu_millis: cpu, mem_mib: mem, gpu: gpus, gpu_milli: gpus * 1000 } };
    }
    case 'tessera': {
      const id = str(rec, 'id', 'machine');
      if (id instanceof FieldError) return id;
      if (!isObj(rec.capacity)) return new FieldError('machine.capacity must be an object of resource name to amount');
      const capacity: Record<string, number> = {};
      for (const k of Object.keys(rec.capacity)) {
        const v = nonNegative(rec.capacity, k, 'machine.capacity');
        if (v instanceof FieldError) return v;
        capacity[k] = v;
      }
      const labels: Record<string, string> = {};
      if (rec.labels !== undefined) {
        if (!isObj(rec.labels)) return new FieldError('machine.labels must be an object of strings');
        for (const [k, v] of Object.entries(rec.labels)) {
          if (typeof v !== 'string') return new FieldError(`machine.labels.${k} must be a string`);
          labels[k] = v;
        }
      }
      return { id: prefix + id, labels, capacity };
    }
  }
}

/** Reads a machine file (JSONL, gz or not; or a JSON/YAML document of records). */
export async function readMachines(path: string, options: MachineOptions = {}): Promise<{ machines: MachineRecord[]; stats: MachineStats }> {
  return machinesFromRecords(fileRecords(path), options);
}

export async function machinesFromRecords(
  records: AsyncIterable<SourceRecord> | Iterable<SourceRecord>,
  options: MachineOptions = {},
): Promise<{ machines: MachineRecord[]; stats: MachineStats }> {
  const stats: MachineStats = { records: 0, machines: 0, skipped: {}, examples: [] };
  const max = options.maxExamples ?? 20;
  const skip = (n: number, reason: SkipReason, message: string) => {
    stats.skipped[reason] = (stats.skipped[reason] ?? 0) + 1;
    if (stats.examples.length < max) stats.examples.push({ line: n, reason, message });
  };
  const machines: MachineRecord[] = [];
  const seen = new Set<string>();
  for await (const r of records) {
    stats.records++;
    if (r.parseError !== undefined) {
      skip(r.n, SKIP_REASONS.unparsable, r.parseError);
      continue;
    }
    const m = convertMachine(r.value, options);
    if (!m.ok) {
      skip(r.n, m.reason, m.message);
      continue;
    }
    if (seen.has(m.machine.id)) {
      skip(r.n, SKIP_REASONS.invalidRecord, `duplicate machine id ${m.machine.id}`);
      continue;
    }
    seen.add(m.machine.id);
    machines.push(m.machine);
  }
  stats.machines = machines.length;
  return { machines, stats };
}

/** Sum of capacity per resource over the machines: the denominator of a target utilisation. */
export function cellCapacity(machines: Iterable<MachineRecord>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of machines) for (const [k, v] of Object.entries(m.capacity)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * Core's vector form. Throws a RangeError when the capacity names a resource the space lacks:
 * that is a configuration fault (the cell's space must cover the machine file), not bad data.
 */
export function nodeRegistration(m: MachineRecord, space: ResourceSpace = ResourceSpace.default): NodeRegistration {
  const v = space.parse(m.capacity, `machine ${m.id}.capacity`);
  if (isResourceError(v)) throw new RangeError(`${v.path}: ${v.message}`);
  return { id: m.id, labels: m.labels, capacity: v };
}
