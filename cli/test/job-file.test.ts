import { describe, expect, it } from 'vitest';
import { ResourceSpace } from '@tessera/core';
import { describeProblems, layoutOf, parseJobFile, readJobFileText } from '../src/core/job-file.ts';

const space = ResourceSpace.default;
const job = (id: string, cpu: unknown = 500) => ({ id, tasks: [{ name: 'map', count: 2, resources: { cpu_millis: cpu, mem_mib: 256 }, duration_s: 3 }] });

describe('layoutOf', () => {
  it.each([
    ['jobs.json', 'json'], ['jobs.JSON', 'json'], ['a.yaml', 'yaml'], ['a.yml', 'yaml'], ['x.jsonl', 'jsonl'],
    ['x.jsonl.gz', 'jsonl'], ['x.ndjson', 'jsonl'], ['x.json.gz', 'json'], ['x.txt', undefined],
  ])('%s → %s', (name, want) => {
    expect(layoutOf(name)).toBe(want);
  });
});

describe('readJobFileText: accepted layouts', () => {
  const cases: { name: string; file: string; text: string; ids: string[] }[] = [
    { name: 'one JSON job', file: 'a.json', text: JSON.stringify(job('a')), ids: ['a'] },
    { name: 'a JSON array', file: 'a.json', text: JSON.stringify([job('a'), job('b')]), ids: ['a', 'b'] },
    { name: 'JSON {jobs: [...]}', file: 'a.json', text: JSON.stringify({ jobs: [job('a'), job('b')] }), ids: ['a', 'b'] },
    { name: 'one YAML job', file: 'a.yaml', text: 'id: a\ntasks:\n  - name: m\n    count: 1\n    resources: { cpu_millis: 1 }\n', ids: ['a'] },
    { name: 'YAML jobs list', file: 'a.yml', text: 'jobs:\n  - id: a\n    tasks: [{name: m, count: 1, resources: {cpu_millis: 1}}]\n  - id: b\n    tasks: [{name: m, count: 1, resources: {cpu_millis: 1}}]\n', ids: ['a', 'b'] },
    { name: 'multi-document YAML', file: 'a.yaml', text: 'id: a\ntasks: [{name: m, count: 1, resources: {cpu_millis: 1}}]\n---\nid: b\ntasks: [{name: m, count: 1, resources: {cpu_millis: 1}}]\n', ids: ['a', 'b'] },
    { name: 'JSON Lines with blank lines', file: 'a.jsonl', text: `${JSON.stringify(job('a'))}\n\n${JSON.stringify(job('b'))}\n`, ids: ['a', 'b'] },
    { name: 'JSON content, unknown extension', file: 'jobs.txt', text: JSON.stringify([job('a')]), ids: ['a'] },
    { name: 'JSON Lines content, unknown extension', file: 'jobs.txt', text: `${JSON.stringify(job('a'))}\n${JSON.stringify(job('b'))}\n`, ids: ['a', 'b'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = readJobFileText(c.text, c.file, space);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.jobs.map((j) => j.id)).toEqual(c.ids);
    });
  }

  it('fills the spec defaults (tenant, queue, priority, gang)', () => {
    const r = readJobFileText(JSON.stringify(job('a')), 'a.json', space);
    expect(r.ok && r.jobs[0]).toMatchObject({ tenant: 'default', queue: 'default', priority: 100, gang: false });
  });
});

describe('readJobFileText: refusals name the bad field', () => {
  const cases: { name: string; file: string; text: string; path: string | RegExp; message: RegExp }[] = [
    { name: 'negative cpu in the 4th job', file: 'a.json', text: JSON.stringify([job('a'), job('b'), job('c'), job('d', -1)]), path: 'jobs[3].tasks[0].resources.cpu_millis', message: /finite number ≥ 0/ },
    { name: 'a string amount', file: 'a.json', text: JSON.stringify({ jobs: [job('a', 'lots')] }), path: 'jobs[0].tasks[0].resources.cpu_millis', message: /number/ },
    { name: 'an unknown resource in a lone job', file: 'a.json', text: JSON.stringify({ id: 'a', tasks: [{ name: 'm', count: 1, resources: { cpus: 1 } }] }), path: 'tasks[0].resources.cpus', message: /unknown resource/ },
    { name: 'zero count', file: 'a.yaml', text: 'id: a\ntasks: [{name: m, count: 0, resources: {cpu_millis: 1}}]\n', path: 'tasks[0].count', message: /./ },
    { name: 'no tasks', file: 'a.json', text: JSON.stringify({ id: 'a', tasks: [] }), path: 'tasks', message: /at least one task group/ },
    { name: 'a bad id', file: 'a.json', text: JSON.stringify({ ...job('a'), id: 'has space' }), path: 'id', message: /A-Z/ },
    { name: 'an unknown field', file: 'a.json', text: JSON.stringify({ ...job('a'), prio: 1 }), path: '(root)', message: /Unrecognized key/ },
    { name: 'in operator without values', file: 'a.json', text: JSON.stringify({ id: 'a', tasks: [{ name: 'm', count: 1, resources: {}, constraints: [{ label: 'zone', op: 'in' }] }] }), path: 'tasks[0].constraints[0].values', message: /non-empty/ },
    { name: 'a bad JSON line', file: 'a.jsonl', text: `${JSON.stringify(job('a'))}\n{oops\n`, path: 'line 2', message: /not valid JSON/ },
    { name: 'a bad job on a JSON line', file: 'a.jsonl', text: `${JSON.stringify(job('a'))}\n${JSON.stringify(job('b', -3))}\n`, path: 'line 2.tasks[0].resources.cpu_millis', message: /finite/ },
    { name: 'broken JSON', file: 'a.json', text: '{"id": ', path: '(file)', message: /not valid JSON/ },
    { name: 'broken YAML', file: 'a.yaml', text: 'id: a\n  tasks: [\n', path: /^line \d+$/, message: /not valid YAML/ },
    { name: 'an empty file', file: 'a.yaml', text: '', path: '(file)', message: /no jobs/ },
    { name: 'jobs is not a list', file: 'a.json', text: '{"jobs": 3}', path: 'jobs', message: /list/ },
    { name: 'duplicate ids in one file', file: 'a.json', text: JSON.stringify([job('a'), job('b'), job('a')]), path: 'jobs[2].id', message: /duplicate job id "a" \(also at jobs\[0\]\)/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = readJobFileText(c.text, c.file, space);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        if (typeof c.path === 'string') expect(r.problems[0].path).toBe(c.path);
        else expect(r.problems[0].path).toMatch(c.path);
        expect(r.problems[0].message).toMatch(c.message);
      }
    });
  }

  it('reports every bad job, not just the first', () => {
    const r = readJobFileText(JSON.stringify([job('a', -1), job('b'), job('c', -2)]), 'a.json', space);
    expect(r.ok === false && r.problems.map((p) => p.path)).toEqual(['jobs[0].tasks[0].resources.cpu_millis', 'jobs[2].tasks[0].resources.cpu_millis']);
  });

  it('describes the problems on one line', () => {
    const line = describeProblems('bad.yaml', [
      { path: 'jobs[3].tasks[0].resources.cpu_millis', message: 'must be a finite number ≥ 0' },
      { path: 'jobs[5].id', message: 'x' },
    ]);
    expect(line).toBe('bad.yaml: jobs[3].tasks[0].resources.cpu_millis: must be a finite number ≥ 0 (and 1 more problem); nothing was submitted');
    expect(line).not.toContain('\n');
  });
});

describe('parseJobFile', () => {
  it('keeps the position of each document for error paths', () => {
    const docs = parseJobFile(`${JSON.stringify(job('a'))}\n\n${JSON.stringify(job('b'))}`, 'jsonl');
    expect(Array.isArray(docs) && docs.map((d) => d.where)).toEqual(['line 1', 'line 3']);
  });
});
