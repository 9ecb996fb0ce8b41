/**
 * Differential test of the fast job-spec path: whenever `fastJobSpec` accepts, zod's
 * `jobSpecSchema` accepts with a deep-equal output in the same key order; specs it does not
 * handle (constraints, preferences, anything odd) are left to zod.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fastJobSpec } from '../src/job-fast.ts';
import { jobSpecSchema } from '../src/job.ts';

const idChars = fc.constantFrom(...'abcXYZ019_.:@-'.split(''));
const goodId = fc.string({ unit: idChars, minLength: 1, maxLength: 12 });
const anyValue = fc.oneof(
  fc.constant(undefined), fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 5 }),
  fc.constant(''), fc.constant('x'.repeat(201)), fc.constant(NaN), fc.constant(Infinity), fc.constant(-1), fc.constant(1.5),
  fc.constant([]), fc.constant({}), fc.constant(['a']),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: a }, { weight: 1, arbitrary: anyValue });
const rarely = fc.oneof({ weight: 12, arbitrary: fc.constant('absent') }, { weight: 1, arbitrary: anyValue });
/** Drops the keys whose value is the marker 'absent' (so optional keys are missing, not undefined). */
const present = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== 'absent'));

const group = fc.record({
  name: maybe(goodId),
  count: maybe(fc.integer({ min: 1, max: 200_000 })),
  resources: maybe(fc.dictionary(fc.constantFrom('cpu_millis', 'mem_mib', 'gpu', 'x'), maybe(fc.double({ noNaN: true })), { maxKeys: 3 })),
  duration_s: fc.oneof(fc.constant('absent'), maybe(fc.double({ min: 0, max: 365 * 86400, noNaN: true }))),
  command: fc.oneof(fc.constant('absent'), maybe(fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 3 }))),
  extra: rarely,
}).map(present);

const job = fc.record({
  id: maybe(goodId),
  tenant: fc.oneof(fc.constant('absent'), maybe(fc.string({ minLength: 1, maxLength: 8 }))),
  queue: fc.oneof(fc.constant('absent'), maybe(fc.string({ minLength: 1, maxLength: 8 }))),
  priority: fc.oneof(fc.constant('absent'), maybe(fc.integer({ min: 0, max: 1_000_000 }))),
  gang: fc.oneof(fc.constant('absent'), maybe(fc.boolean())),
  tasks: maybe(fc.array(group, { minLength: 1, maxLength: 3 })),
  extra: rarely,
}).map(present);

function agrees(x: unknown): boolean {
  const fast = fastJobSpec(x);
  const zod = jobSpecSchema.safeParse(x);
  if (fast === undefined) return zod.success;
  expect(zod.success).toBe(true);
  if (zod.success) {
    expect(fast).toStrictEqual(zod.data);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(zod.data));
  }
  return true;
}

describe('fastJobSpec', () => {
  it('accepts only what zod accepts, with the same output', () => {
    let fastAccepted = 0;
    fc.assert(fc.property(job, (x) => {
      agrees(x);
      if (fastJobSpec(x) !== undefined) fastAccepted++;
    }), { numRuns: 3000 });
    // The generator must reach the accepting side often enough to mean something.
    expect(fastAccepted).toBeGreaterThan(300);
  });

  it('accepts the common shapes zod accepts (defaults filled in)', () => {
    const table: unknown[] = [
      { id: 'j1', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1000, mem_mib: 10 } }] },
      { id: 'j2', tenant: 'a', queue: 'q', priority: 0, gang: true, tasks: [{ name: 't', count: 2, resources: {}, duration_s: 3, command: ['sleep', '3'] }] },
      { id: 'j3', tasks: [{ name: 'a', count: 1, resources: { cpu_millis: 1 } }, { name: 'b', count: 3, resources: { mem_mib: 1 }, duration_s: 0 }] },
    ];
    for (const x of table) {
      expect(fastJobSpec(x)).toBeDefined();
      agrees(x);
    }
    expect(fastJobSpec(table[0])).toEqual({ id: 'j1', tenant: 'default', queue: 'default', priority: 100, gang: false, tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1000, mem_mib: 10 } }] });
  });

  it('leaves constraints, preferences, unknown keys and bad values to zod', () => {
    const base = { id: 'j', tasks: [{ name: 't', count: 1, resources: {} }] };
    const table: unknown[] = [
      { ...base, tasks: [{ ...base.tasks[0], constraints: [{ label: 'zone', op: 'exists' }] }] },
      { ...base, tasks: [{ ...base.tasks[0], preferences: [] }] },
      { ...base, extra: 1 },
      { ...base, id: 'has space' },
      { ...base, priority: 1.5 },
      { ...base, tasks: [] },
      { ...base, tasks: [{ ...base.tasks[0], count: 0 }] },
      { ...base, tasks: [{ ...base.tasks[0], resources: { cpu_millis: '1' } }] },
      { ...base, tasks: [{ ...base.tasks[0], duration_s: Infinity }] },
      new Date(0), [base], null,
    ];
    for (const x of table) {
      expect(fastJobSpec(x)).toBeUndefined();
      agrees(x);
    }
  });
});
