/**
 * Defensive reads of untrusted parsed JSON: every accessor returns a value or a
 * {@link FieldError}, so a malformed row is reported, never thrown.
 */

export type Obj = Record<string, unknown>;

export class FieldError {
  constructor(readonly message: string) {}
}

export function isObj(x: unknown): x is Obj {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export function finite(o: Obj, key: string, where: string): number | FieldError {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : new FieldError(`${where}.${key} must be a finite number, got ${JSON.stringify(v)}`);
}

/** A finite number, `null` when absent/null, or an error for any other value. */
export function optionalFinite(o: Obj, key: string, where: string): number | null | FieldError {
  const v = o[key];
  if (v === undefined || v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : new FieldError(`${where}.${key} must be a finite number or null, got ${JSON.stringify(v)}`);
}

export function nonNegative(o: Obj, key: string, where: string): number | FieldError {
  const v = finite(o, key, where);
  if (v instanceof FieldError) return v;
  return v >= 0 ? v : new FieldError(`${where}.${key} must be ≥ 0, got ${v}`);
}

export function positiveInt(o: Obj, key: string, where: string): number | FieldError {
  const v = o[key];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : new FieldError(`${where}.${key} must be an integer ≥ 1, got ${JSON.stringify(v)}`);
}

export function str(o: Obj, key: string, where: string): string | FieldError {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 ? v : new FieldError(`${where}.${key} must be a non-empty string, got ${JSON.stringify(v)}`);
}

export function optionalStr(o: Obj, key: string, where: string): string | null | FieldError {
  const v = o[key];
  if (v === undefined || v === null || v === '') return null;
  return typeof v === 'string' ? v : new FieldError(`${where}.${key} must be a string or null, got ${JSON.stringify(v)}`);
}

/** An array of `length` entries, each a finite number or null. */
export function numberOrNullArray(o: Obj, key: string, length: number, where: string): (number | null)[] | FieldError {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== length) {
    return new FieldError(`${where}.${key} must be an array of ${length} entries`);
  }
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (x !== null && !(typeof x === 'number' && Number.isFinite(x))) {
      return new FieldError(`${where}.${key}[${i}] must be a finite number or null, got ${JSON.stringify(x)}`);
    }
  }
  return v as (number | null)[];
}
