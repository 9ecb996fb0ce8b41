import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expandTasks, MAX_TASKS_PER_JOB, taskCount, taskId, validateJobSpec, type JobSpec } from '../src/index.ts';
import { space } from './builders.ts';

function goodSpec(): Record<string, unknown> {
  return {
    id: 'etl-42',
    tasks: [
      {
        name: 'map',
        count: 3,
        resources: { cpu_millis: 500, mem_mib: 256 },
        duration_s: 30,
        command: ['sleep', '30'],
        constraints: [{ label: 'zone', op: 'in', values: ['a', 'b'] }],
      },
      { name: 'reduce', count: 1, resources: { cpu_millis: 1000, gpu: 1 } },
    ],
  };
}

/** goodSpec with one field replaced (`path` is a list of keys/indices; `undefined` deletes). */
function withField(path: readonly (string | number)[], value: unknown): unknown {
  const spec = structuredClone(goodSpec());
  let o: Record<string | number, unknown> = spec;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
  return spec;
}

describe('validateJobSpec', () => {
  it('accepts a good spec and fills in the defaults', () => {
    const r = validateJobSpec(goodSpec(), space);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.job).toMatchObject({ id: 'etl-42', tenant: 'default', queue: 'default', priority: 100, gang: false });
    expect(r.job.tasks).toHaveLength(2);
    expect(r.job.tasks[0].constraints).toEqual([{ label: 'zone', op: 'in', values: ['a', 'b'] }]);
  });

  it('keeps given optional fields', () => {
    const r = validateJobSpec({ ...goodSpec(), tenant: 'team-a', queue: 'batch', priority: 7, gang: true }, space);
    expect(r).toMatchObject({ ok: true, job: { tenant: 'team-a', queue: 'batch', priority: 7, gang: true } });
  });

  it.each([
    ['exists without values', { label: 'ssd', op: 'exists' }],
    ['not_in with values', { label: 'zone', op: 'not_in', values: ['c'] }],
  ])('accepts a constraint: %s', (_, c) => {
    expect(validateJobSpec(withField(['tasks', 0, 'constraints'], [c]), space).ok).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'hello', '(root)'],
    ['null', null, '(root)'],
    ['an array', [goodSpec()], '(root)'],
    ['missing id', withField(['id'], undefined), 'id'],
    ['empty id', withField(['id'], ''), 'id'],
    ['id with a space', withField(['id'], 'etl 42'), 'id'],
    ['id with a slash', withField(['id'], 'a/b'), 'id'],
    ['id too long', withField(['id'], 'x'.repeat(201)), 'id'],
    ['id not a string', withField(['id'], 42), 'id'],
    ['empty tasks', withField(['tasks'], []), 'tasks'],
    ['missing tasks', withField(['tasks'], undefined), 'tasks'],
    ['count 0', withField(['tasks', 0, 'count'], 0), 'tasks[0].count'],
    ['negative count', withField(['tasks', 1, 'count'], -3), 'tasks[1].count'],
    ['fractional count', withField(['tasks', 0, 'count'], 1.5), 'tasks[0].count'],
    ['count over the limit', withField(['tasks', 0, 'count'], MAX_TASKS_PER_JOB + 1), 'tasks[0].count'],
    ['negative resource', withField(['tasks', 0, 'resources', 'cpu_millis'], -1), 'tasks[0].resources.cpu_millis'],
    ['NaN resource', withField(['tasks', 1, 'resources', 'gpu'], NaN), 'tasks[1].resources.gpu'],
    ['Infinity resource', withField(['tasks', 0, 'resources', 'mem_mib'], Infinity), 'tasks[0].resources.mem_mib'],
    ['string resource', withField(['tasks', 0, 'resources', 'mem_mib'], '256'), 'tasks[0].resources.mem_mib'],
    ['unknown resource', withField(['tasks', 1, 'resources', 'disk_mib'], 10), 'tasks[1].resources.disk_mib'],
    ['resources not an object', withField(['tasks', 0, 'resources'], 5), 'tasks[0].resources'],
    ['duplicate group names', withField(['tasks', 1, 'name'], 'map'), 'tasks[1].name'],
    ['bad group name', withField(['tasks', 0, 'name'], 'map reduce'), 'tasks[0].name'],
    ['in without values', withField(['tasks', 0, 'constraints', 0, 'values'], undefined), 'tasks[0].constraints[0].values'],
    ['in with empty values', withField(['tasks', 0, 'constraints', 0, 'values'], []), 'tasks[0].constraints[0].values'],
    ['not_in without values', withField(['tasks', 0, 'constraints', 0], { label: 'zone', op: 'not_in' }), 'tasks[0].constraints[0].values'],
    ['unknown op', withField(['tasks', 0, 'constraints', 0, 'op'], 'near'), 'tasks[0].constraints[0].op'],
    ['negative duration', withField(['tasks', 0, 'duration_s'], -1), 'tasks[0].duration_s'],
    ['empty command', withField(['tasks', 0, 'command'], []), 'tasks[0].command'],
    ['negative priority', withField(['priority'], -1), 'priority'],
    ['gang not a boolean', withField(['gang'], 'yes'), 'gang'],
  ])('refuses %s with the path of the bad field', (_, input, path) => {
    const r = validateJobSpec(input, space);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.path).toBe(path);
    expect(r.error.message.length).toBeGreaterThan(0);
  });

  it('refuses unknown fields (typos must not be silently dropped)', () => {
    const r = validateJobSpec({ ...goodSpec(), prority: 5 }, space);
    expect(r.ok).toBe(false);
    const g = validateJobSpec(withField(['tasks', 0, 'cout'], 5), space);
    expect(g).toMatchObject({ ok: false, error: { path: 'tasks[0]' } });
  });

  it('refuses a job whose groups add up to more than the task limit', () => {
    const tasks = [0, 1, 2].map((i) => ({ name: `g${i}`, count: MAX_TASKS_PER_JOB / 2, resources: {} }));
    const r = validateJobSpec({ id: 'big', tasks }, space);
    expect(r).toMatchObject({ ok: false, error: { path: 'tasks' } });
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const r = validateJobSpec(input, space);
        if (!r.ok) expect(typeof r.error.path).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on specs that are almost right', () => {
    const value = fc.oneof(fc.anything(), fc.double(), fc.integer({ min: -5, max: 5 }), fc.constant(undefined));
    const path = fc.constantFrom<(string | number)[]>(
      ['id'], ['tasks'], ['tasks', 0], ['tasks', 0, 'count'], ['tasks', 0, 'resources'], ['tasks', 1, 'resources', 'gpu'],
      ['tasks', 0, 'constraints'], ['tasks', 0, 'constraints', 0], ['tasks', 0, 'constraints', 0, 'values'], ['gang'],
    );
    fc.assert(
      fc.property(path, value, (p, v) => {
        const r = validateJobSpec(withField(p, v), space);
        if (r.ok) expect(taskCount(r.job)).toBeGreaterThan(0);
        else expect(r.error.path).not.toBe('');
      }),
      { numRuns: 300 },
    );
  });
});

describe('expandTasks', () => {
  const job = (() => {
    const r = validateJobSpec({ ...goodSpec(), priority: 5 }, space);
    if (!r.ok) throw new Error(r.error.message);
    return r.job;
  })();

  it('yields one task per count, with stable unique ids', () => {
    const tasks = expandTasks(job, space);
    expect(tasks.map((t) => t.id)).toEqual(['etl-42/map/0', 'etl-42/map/1', 'etl-42/map/2', 'etl-42/reduce/0']);
    expect(taskCount(job)).toBe(4);
    expect(tasks[3].id).toBe(taskId('etl-42', 'reduce', 0));
    expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length);
  });

  it('carries demand as a vector, and the group fields', () => {
    const [m0, , m2, r0] = expandTasks(job, space);
    expect([...m0.demand]).toEqual([500, 256, 0]);
    expect([...r0.demand]).toEqual([1000, 0, 1]);
    expect(m2).toMatchObject({ jobId: 'etl-42', group: 'map', index: 2, priority: 5, durationS: 30, command: ['sleep', '30'] });
    expect(m2.constraints).toEqual([{ label: 'zone', op: 'in', values: ['a', 'b'] }]);
    expect(r0.constraints).toBeUndefined();
  });

  it('expands generated specs into exactly taskCount tasks', () => {
    const group = fc.record({
      count: fc.integer({ min: 1, max: 20 }),
      resources: fc.record({ cpu_millis: fc.nat(4000), mem_mib: fc.nat(4096) }, { requiredKeys: [] }),
    });
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 5 }), (groups) => {
        const spec = { id: 'j', tasks: groups.map((g, i) => ({ ...g, name: `g${i}` })) };
        const r = validateJobSpec(spec, space);
        expect(r.ok).toBe(true);
        const tasks = expandTasks((r as { job: JobSpec }).job, space);
        expect(tasks).toHaveLength(groups.reduce((s, g) => s + g.count, 0));
        expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length);
      }),
      { numRuns: 100 },
    );
  });
});
