/**
 * The nodes an agent hosts: virtual ones for the `sim` driver (thousands per process, like kwok)
 * or records from a machine file. Labels `zone` and `rack` are a deterministic function of the
 * node's ordinal so constraints can be exercised: `rackSize` consecutive nodes share a rack and
 * racks are dealt round-robin over the zones (the same rule as @tessera/workloads' synthetic
 * topology, with the zone names given by the operator).
 */

export interface AgentNode {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly capacity: Readonly<Record<string, number>>;
}

export interface VirtualNodeOptions {
  /** How many nodes this agent hosts. */
  readonly count: number;
  /** Ordinal of the first node (agents sharing a cell get disjoint ranges). */
  readonly offset?: number;
  readonly prefix?: string;
  readonly capacity: Readonly<Record<string, number>>;
  readonly zones?: readonly string[];
  readonly rackSize?: number;
}

export const DEFAULT_RACK_SIZE = 40;
export const DEFAULT_ZONES: readonly string[] = ['a', 'b', 'c', 'd'];
/** Ids are zero-padded to at least this many digits so they sort in ordinal order. */
const MIN_ID_DIGITS = 6;

export function topologyLabels(ordinal: number, zones: readonly string[] = DEFAULT_ZONES, rackSize = DEFAULT_RACK_SIZE): { zone: string; rack: string } {
  const rack = Math.floor(ordinal / rackSize);
  return { zone: zones[rack % zones.length], rack: `r${rack}` };
}

export function virtualNodeId(prefix: string, ordinal: number): string {
  return prefix + String(ordinal).padStart(MIN_ID_DIGITS, '0');
}

export function virtualNodes(opts: VirtualNodeOptions): AgentNode[] {
  const offset = opts.offset ?? 0;
  const zones = opts.zones ?? DEFAULT_ZONES;
  const rackSize = opts.rackSize ?? DEFAULT_RACK_SIZE;
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new RangeError(`node count must be an integer ≥ 0, got ${opts.count}`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`node offset must be an integer ≥ 0, got ${offset}`);
  if (zones.length === 0) throw new RangeError('at least one zone is needed');
  if (!Number.isInteger(rackSize) || rackSize < 1) throw new RangeError(`rack size must be an integer ≥ 1, got ${rackSize}`);
  const capacity = Object.freeze({ ...opts.capacity });
  const out: AgentNode[] = new Array(opts.count);
  for (let i = 0; i < opts.count; i++) {
    const ordinal = offset + i;
    out[i] = { id: virtualNodeId(opts.prefix ?? 'node-', ordinal), labels: topologyLabels(ordinal, zones, rackSize), capacity };
  }
  return out;
}

/**
 * Machine-file records for this agent: the slice [offset, offset + count) (all when count is
 * undefined), with `zone`/`rack` added where the file has none.
 */
export function machineNodes(records: readonly AgentNode[], opts: { offset?: number; count?: number; zones?: readonly string[]; rackSize?: number } = {}): AgentNode[] {
  const offset = opts.offset ?? 0;
  const end = opts.count === undefined ? records.length : Math.min(records.length, offset + opts.count);
  const out: AgentNode[] = [];
  for (let i = offset; i < end; i++) {
    const r = records[i];
    const topo = topologyLabels(i, opts.zones, opts.rackSize);
    out.push({ id: r.id, labels: { zone: topo.zone, rack: topo.rack, ...r.labels }, capacity: r.capacity });
  }
  return out;
}

/** Keeps only the resources of the cell's resource space (the cell refuses unknown names). */
export function restrictCapacity(capacity: Readonly<Record<string, number>>, resourceNames: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of resourceNames) if (capacity[n] !== undefined) out[n] = capacity[n];
  return out;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be an integer ≥ 1, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
