/**
 * Resource vectors with unit-bearing names (`cpu_millis`, `mem_mib`, `gpu`, …).
 *
 * At the boundary resources are plain records keyed by name; inside the core they are
 * Float64Arrays laid out in the order of a {@link ResourceSpace}, so the hot paths (fit checks
 * in validation and placement) are tight loops over a few numbers instead of key lookups.
 */

export type ResourceRecord = Readonly<Record<string, number>>;
export type ResourceVector = Float64Array;

export const DEFAULT_RESOURCE_NAMES = ['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli'] as const;

/** Why a resource record was refused; a value, never thrown. */
export interface ResourceError {
  readonly path: string;
  readonly message: string;
}

export class ResourceSpace {
  readonly names: readonly string[];
  private readonly indexByName: ReadonlyMap<string, number>;

  private constructor(names: readonly string[]) {
    this.names = Object.freeze([...names]);
    this.indexByName = new Map(names.map((n, i) => [n, i]));
  }

  static of(names: readonly string[]): ResourceSpace {
    if (names.length === 0) throw new RangeError('a resource space needs at least one resource name');
    if (new Set(names).size !== names.length) throw new RangeError(`duplicate resource names in ${names.join(',')}`);
    for (const n of names) {
      if (!/^[a-z][a-z0-9_]*$/.test(n)) throw new RangeError(`bad resource name "${n}": use lower_snake_case with a unit suffix`);
    }
    return new ResourceSpace(names);
  }

  static readonly default = ResourceSpace.of(DEFAULT_RESOURCE_NAMES);

  get size(): number {
    return this.names.length;
  }

  indexOf(name: string): number | undefined {
    return this.indexByName.get(name);
  }

  zero(): ResourceVector {
    return new Float64Array(this.names.length);
  }

  /**
   * Converts a record into a vector. Unknown names, negative, NaN or infinite amounts are
   * refused with the path of the bad field (prefixed with `path`).
   */
  parse(record: unknown, path = 'resources'): ResourceVector | ResourceError {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      return { path, message: 'must be an object of resource name to amount' };
    }
    const v = this.zero();
    for (const [name, amount] of Object.entries(record as Record<string, unknown>)) {
      const i = this.indexByName.get(name);
      if (i === undefined) {
        return { path: `${path}.${name}`, message: `unknown resource "${name}" (known: ${this.names.join(', ')})` };
      }
      if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
        return { path: `${path}.${name}`, message: 'must be a finite number ≥ 0' };
      }
      v[i] = amount;
    }
    return v;
  }

  /** Like {@link parse} but throws a RangeError; for trusted, already-validated input. */
  vector(record: ResourceRecord): ResourceVector {
    const v = this.parse(record);
    if (v instanceof Float64Array) return v;
    throw new RangeError(`${v.path}: ${v.message}`);
  }

  /** The record form, omitting zero amounts unless `keepZeros`. */
  record(v: ResourceVector, keepZeros = false): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.names.length; i++) {
      if (keepZeros || v[i] !== 0) out[this.names[i]] = v[i];
    }
    return out;
  }
}

export function isResourceError(x: ResourceVector | ResourceError): x is ResourceError {
  return !(x instanceof Float64Array);
}

/**
 * allocated + extra + demand ≤ capacity on every dimension. `extra` may be undefined.
 * Written as `!(… <= …)` so that a NaN anywhere (e.g. a node registered with a NaN capacity)
 * means "does not fit" rather than "fits everything".
 */
export function fitsWith(
  capacity: ResourceVector,
  allocated: ResourceVector,
  extra: ResourceVector | undefined,
  demand: ResourceVector,
): boolean {
  const n = demand.length;
  if (extra === undefined) {
    for (let i = 0; i < n; i++) if (!(allocated[i] + demand[i] <= capacity[i])) return false;
  } else {
    for (let i = 0; i < n; i++) if (!(allocated[i] + extra[i] + demand[i] <= capacity[i])) return false;
  }
  return true;
}

export function fits(capacity: ResourceVector, allocated: ResourceVector, demand: ResourceVector): boolean {
  return fitsWith(capacity, allocated, undefined, demand);
}

/** target += v, in place. */
export function addInto(target: ResourceVector, v: ResourceVector): void {
  for (let i = 0; i < v.length; i++) target[i] += v[i];
}

/** target -= v, in place, clamped at 0 so float noise never yields negative allocations. */
export function subtractInto(target: ResourceVector, v: ResourceVector): void {
  for (let i = 0; i < v.length; i++) {
    const r = target[i] - v[i];
    target[i] = r > 1e-9 ? r : 0;
  }
}

/** max over dimensions with capacity of used/capacity: the DRF "dominant share". */
export function dominantShare(capacity: ResourceVector, used: ResourceVector): number {
  let m = 0;
  for (let i = 0; i < capacity.length; i++) {
    const c = capacity[i];
    if (c > 0) {
      const s = used[i] / c;
      if (s > m) m = s;
    }
  }
  return m;
}

/** True when every amount is zero. */
export function isZero(v: ResourceVector): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) return false;
  return true;
}

/** Largest amount over all nodes per dimension, to tell "fits nowhere ever" from "full now". */
export function componentMax(target: ResourceVector, v: ResourceVector): void {
  for (let i = 0; i < v.length; i++) if (v[i] > target[i]) target[i] = v[i];
}
