import { describe, expect, it } from 'vitest';
import { CONSTRAINT_OPS, satisfies, satisfiesAll, type Constraint, type Labels } from '../src/index.ts';

const labels: Labels = { zone: 'a', rack: 'r1', gpu_model: '' };

describe('satisfies', () => {
  const cases: [string, Constraint, boolean][] = [
    ['in: value listed', { label: 'zone', op: 'in', values: ['a', 'b'] }, true],
    ['in: value not listed', { label: 'zone', op: 'in', values: ['b', 'c'] }, false],
    ['in: label missing', { label: 'ssd', op: 'in', values: ['a'] }, false],
    ['in: no values', { label: 'zone', op: 'in' }, false],
    ['in: empty label value listed', { label: 'gpu_model', op: 'in', values: [''] }, true],
    ['not_in: value listed', { label: 'zone', op: 'not_in', values: ['a'] }, false],
    ['not_in: value not listed', { label: 'zone', op: 'not_in', values: ['b'] }, true],
    ['not_in: label missing', { label: 'ssd', op: 'not_in', values: ['a'] }, true],
    ['not_in: no values', { label: 'zone', op: 'not_in' }, true],
    ['exists: present', { label: 'rack', op: 'exists' }, true],
    ['exists: present but empty', { label: 'gpu_model', op: 'exists' }, true],
    ['exists: missing', { label: 'ssd', op: 'exists' }, false],
    ['not_exists: present', { label: 'rack', op: 'not_exists' }, false],
    ['not_exists: missing', { label: 'ssd', op: 'not_exists' }, true],
  ];
  it.each(cases)('%s', (_, c, expected) => {
    expect(satisfies(labels, c)).toBe(expected);
  });

  it('covers every op', () => {
    expect(new Set(cases.map(([, c]) => c.op))).toEqual(new Set(CONSTRAINT_OPS));
  });

  it('does not match inherited object properties as labels', () => {
    expect(satisfies({}, { label: 'toString', op: 'exists' })).toBe(false);
    expect(satisfies({}, { label: 'constructor', op: 'not_exists' })).toBe(true);
  });
});

describe('satisfiesAll', () => {
  it.each([
    ['undefined', undefined, true],
    ['empty', [], true],
    ['all hold', [{ label: 'zone', op: 'in', values: ['a'] }, { label: 'rack', op: 'exists' }], true],
    ['one fails', [{ label: 'zone', op: 'in', values: ['a'] }, { label: 'ssd', op: 'exists' }], false],
  ] as [string, Constraint[] | undefined, boolean][])('%s', (_, cs, expected) => {
    expect(satisfiesAll(labels, cs)).toBe(expected);
  });
});
