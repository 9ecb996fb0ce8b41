import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ResourceSpace, validateJobSpec } from '@tessera/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ALIBABA2017_MEM_MIB_PER_NORM, BUNDLED, TraceReadError, round3, loadTrace, readRecords, readTrace, taskDurationS, type TraceJob } from '../src/index.ts';

/** The statistics the shared README quotes, as convert.py computed them. */
const stats = JSON.parse(readFileSync(BUNDLED.stats, 'utf8')) as {
  google2011: { jobs: number; jobs_initial_at_t0: number; instances: number; task_groups: number; sample: { jobs: number; instances: number } };
  alibaba2017: { jobs: number; tasks: number; instances: number; tasks_missing_plan_cpu: number; sample: { jobs: number; tasks: number; instances: number } };
  alibaba_gpu2023: { jobs: number; unscheduled_pods: number; num_gpu: Record<string, number> };
};

const tmp = mkdtempSync(join(tmpdir(), 'tessera-workloads-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string, gz = false): string {
  const p = join(tmp, name);
  writeFileSync(p, gz ? gzipSync(text) : text);
  return p;
}

function expectValidAndOrdered(jobs: readonly TraceJob[]): void {
  let last = -Infinity;
  const ids = new Set<string>();
  for (const tj of jobs) {
    const v = validateJobSpec(tj.job, ResourceSpace.default);
    if (!v.ok) throw new Error(`${tj.job.id}: ${v.error.path}: ${v.error.message}`);
    expect(tj.submitS).toBeGreaterThanOrEqual(last);
    last = tj.submitS;
    ids.add(tj.job.id);
  }
  expect(ids.size).toBe(jobs.length);
}

const instances = (jobs: readonly TraceJob[]) => jobs.reduce((n, tj) => n + tj.job.tasks.reduce((m, g) => m + g.count, 0), 0);

describe('alibaba2017', () => {
  it('sample: 1 500 jobs read; tasks without plan_cpu skipped and counted; the rest valid and ordered', async () => {
    const { jobs, stats: s } = await loadTrace(BUNDLED.alibaba2017Sample);
    expect(s.records).toBe(stats.alibaba2017.sample.jobs);
    expect(s.records).toBe(1500);
    // Every task is either yielded or skipped for lack of a request: nothing lost silently.
    expect(s.taskGroups + (s.skippedTaskGroups.no_resource_request ?? 0)).toBe(stats.alibaba2017.sample.tasks);
    expect(s.tasks + s.skippedTasks).toBe(stats.alibaba2017.sample.instances);
    expect(s.jobs + (s.skippedJobs.no_tasks ?? 0)).toBe(1500);
    expect(Object.keys(s.skippedJobs)).toEqual(['no_tasks']);
    expect(Object.keys(s.skippedTaskGroups)).toEqual(['no_resource_request']);
    expect(s.jobs).toBe(jobs.length);
    expect(instances(jobs)).toBe(s.tasks);
    expectValidAndOrdered(jobs);
  });

  it('full trace: all 80 553 tasks accounted for, 9 017 without a request', async () => {
    const { jobs, stats: s } = await loadTrace(BUNDLED.alibaba2017Jobs);
    expect(s.records).toBe(stats.alibaba2017.jobs);
    expect(s.skippedTaskGroups.no_resource_request).toBe(stats.alibaba2017.tasks_missing_plan_cpu);
    expect(s.taskGroups + s.skippedTaskGroups.no_resource_request!).toBe(stats.alibaba2017.tasks);
    expect(s.tasks + s.skippedTasks).toBe(stats.alibaba2017.instances);
    expect(jobs[0].submitS).toBe(-1078); // created before the trace start, kept as is
    expectValidAndOrdered(jobs);
  }, 60_000);

  it('maps the first sample job by the documented rules', async () => {
    const { jobs } = await loadTrace(BUNDLED.alibaba2017Sample, { limit: 1 });
    expect(jobs).toHaveLength(1);
    const j = jobs[0];
    expect(j.submitS).toBe(5);
    expect(j.job.id).toBe('7026');
    expect(j.job.tasks[0]).toMatchObject({ name: '41416', count: 33, resources: { cpu_millis: 500, mem_mib: round3(0.016007041 * ALIBABA2017_MEM_MIB_PER_NORM) }, duration_s: 86.788 });
  });
});

describe('google2011', () => {
  it('sample: 1 500 jobs, 56 872 tasks, all valid and ordered, per-task durations', async () => {
    const { jobs, stats: s } = await loadTrace(BUNDLED.google2011Sample);
    expect(s.jobs).toBe(stats.google2011.sample.jobs);
    expect(s.tasks).toBe(stats.google2011.sample.instances);
    expect(s.skippedTasks).toBe(0);
    expectValidAndOrdered(jobs);
    for (const tj of jobs) {
      expect(tj.job.tenant).not.toBe('default');
      for (const g of tj.job.tasks) expect(tj.taskDurationsS?.[g.name]).toHaveLength(g.count);
    }
    const first = jobs[0];
    expect(first.job).toMatchObject({ id: '6251639646', priority: 9, tasks: [{ name: 'g0', count: 1, resources: { cpu_millis: 2000, mem_mib: 2084.045 } }] });
    expect(taskDurationS(first, 'g0', 0)).toBeCloseTo(69.68269, 5);
    expect(first.job.tasks[0].duration_s).toBeCloseTo(69.68269, 5);
  });

  it('full trace: initial jobs included at 0 by default, skipped and counted on request', async () => {
    const all = await loadTrace(BUNDLED.google2011Jobs);
    expect(all.stats.jobs).toBe(stats.google2011.jobs);
    expect(all.stats.tasks).toBe(stats.google2011.instances);
    expect(all.stats.taskGroups).toBe(stats.google2011.task_groups);
    expect(all.jobs.filter((j) => j.meta?.initial === true).every((j) => j.submitS === 0)).toBe(true);
    const fresh = await loadTrace(BUNDLED.google2011Jobs, { includeInitial: false });
    expect(fresh.stats.skippedJobs.initial_excluded).toBe(stats.google2011.jobs_initial_at_t0);
    expect(fresh.stats.jobs).toBe(stats.google2011.jobs - stats.google2011.jobs_initial_at_t0);
    expect(fresh.jobs.every((j) => j.submitS > 0)).toBe(true);
  }, 60_000);
});

describe('alibaba_gpu2023', () => {
  it('8 152 pods, one task each, valid and ordered; 897 never scheduled have no duration', async () => {
    const { jobs, stats: s } = await loadTrace(BUNDLED.alibabaGpu2023Jobs);
    expect(s.jobs).toBe(stats.alibaba_gpu2023.jobs);
    expect(s.tasks).toBe(8152);
    expect(s.tasksWithoutDuration).toBe(stats.alibaba_gpu2023.unscheduled_pods);
    expectValidAndOrdered(jobs);
    const wholeGpus = jobs.filter((j) => j.job.tasks[0].resources.gpu !== undefined);
    const shares = jobs.filter((j) => j.job.tasks[0].resources.gpu === undefined && j.job.tasks[0].resources.gpu_milli !== undefined);
    const none = jobs.filter((j) => j.job.tasks[0].resources.gpu_milli === undefined);
    expect(none.length).toBe(stats.alibaba_gpu2023.num_gpu['0']);
    expect(wholeGpus.length + shares.length + none.length).toBe(8152);
    for (const j of shares) expect(j.job.tasks[0].resources.gpu_milli).toBeLessThan(1000);
    for (const j of wholeGpus) expect(j.job.tasks[0].resources.gpu_milli).toBe(j.job.tasks[0].resources.gpu! * 1000);
    expect(jobs[0].meta).toMatchObject({ qos: 'LS' });
  });

  it('with requireDuration the never-scheduled pods are skipped and counted', async () => {
    const { stats: s } = await loadTrace(BUNDLED.alibabaGpu2023Jobs, { requireDuration: true });
    expect(s.jobs).toBe(8152 - 897);
    expect(s.skippedJobs.no_tasks).toBe(897);
    expect(s.skippedTaskGroups.no_duration).toBe(897);
    expect(s.tasksWithoutDuration).toBe(0);
  });
});

describe('malformed input is skipped and counted, never thrown', () => {
  const good = (id: string, submit: number) =>
    JSON.stringify({ job: id, submit_s: submit, tasks: [{ name: 't1', count: 2, cpu_millis: 500, plan_cpu: 50, mem_norm: 0.01, duration_s: 10 }] });

  it.each([
    ['plain', false],
    ['gzip', true],
  ])('JSONL (%s)', async (_label, gz) => {
    const lines = [
      good('a', 1),
      '{not json',
      '',
      JSON.stringify({ hello: 'world' }),
      JSON.stringify({ job: 'b', submit_s: 'soon', tasks: [{ name: 't1', count: 1, cpu_millis: 500, mem_norm: 0.01 }] }),
      JSON.stringify({ job: 'c', submit_s: 2, tasks: [{ name: 't1', count: -3, cpu_millis: 500, mem_norm: 0.01 }] }),
      JSON.stringify({ job: 'bad id!', submit_s: 3, tasks: [{ name: 't1', count: 1, cpu_millis: 500, mem_norm: 0.01 }] }),
      good('d', 0.5), // earlier than a: out of order when streaming
      good('e', 4),
    ];
    const path = write(`mixed-${gz ? 'gz' : 'plain'}.jsonl${gz ? '.gz' : ''}`, lines.join('\n') + '\n', gz);
    const { jobs, stats: s } = await loadTrace(path);
    expect(jobs.map((j) => j.job.id)).toEqual(['a', 'e']);
    expect(s.records).toBe(8);
    expect(s.skippedJobs).toEqual({ unparsable: 1, unknown_format: 1, invalid_record: 1, no_tasks: 1, invalid_spec: 1, out_of_order: 1 });
    expect(s.skippedTaskGroups).toEqual({ invalid_record: 1 });
    expect(s.examples.find((e) => e.reason === 'unparsable')?.line).toBe(2);
    expect(s.examples.find((e) => e.reason === 'invalid_spec')?.message).toMatch(/^id:/);

    const sorted = await loadTrace(path, { order: 'sort' });
    expect(sorted.jobs.map((j) => j.job.id)).toEqual(['d', 'a', 'e']);
    expect(sorted.stats.skippedJobs.out_of_order).toBeUndefined();
  });

  it('a truncated gzip is an I/O fault: TraceReadError', async () => {
    const full = gzipSync(Array.from({ length: 20_000 }, (_, i) => good(`j${i}`, i)).join('\n'));
    const path = join(tmp, 'truncated.jsonl.gz');
    writeFileSync(path, full.subarray(0, full.length - 50));
    await expect(loadTrace(path)).rejects.toBeInstanceOf(TraceReadError);
    await expect(loadTrace(join(tmp, 'missing.jsonl'))).rejects.toBeInstanceOf(TraceReadError);
  });

  it('a limit stops early and closes the file', async () => {
    const r = readTrace(BUNDLED.alibaba2017Jobs, { limit: 5 });
    const ids: string[] = [];
    for await (const j of r) ids.push(j.job.id);
    expect(ids).toHaveLength(5);
    expect(r.stats.jobs).toBe(5);
  });
});

describe("tessera's own job files", () => {
  const spec = {
    id: 'etl-42', tenant: 'team-a', queue: 'default', priority: 100, gang: false,
    tasks: [{ name: 'map', count: 20, resources: { cpu_millis: 500, mem_mib: 256 }, duration_s: 30, command: ['sleep', '30'],
      constraints: [{ label: 'zone', op: 'in', values: ['a', 'b'] }] }],
  };

  it('JSON: one spec', async () => {
    const { jobs } = await loadTrace(write('one.json', JSON.stringify(spec)));
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ submitS: 0, format: 'tessera', job: spec });
  });

  it('YAML: an array of specs and envelopes with submit times, sorted; a bad one counted', async () => {
    const yaml = `
- submit_s: 20
  job:
    id: late
    tasks: [{ name: main, count: 1, resources: { cpu_millis: 100 } }]
- id: early
  tasks:
    - name: main
      count: 2
      resources: { cpu_millis: 100, mem_mib: 64 }
      duration_s: 5
- id: broken
  tasks: [{ name: main, count: 1, resources: { cpu_millis: -1 } }]
`;
    const { jobs, stats: s } = await loadTrace(write('many.yaml', yaml));
    expect(jobs.map((j) => [j.job.id, j.submitS])).toEqual([['early', 0], ['late', 20]]);
    expect(s.skippedJobs).toEqual({ invalid_spec: 1 });
    expect(s.examples[0].message).toContain('tasks[0].resources.cpu_millis');
    expect(s.tasksWithoutDuration).toBe(1);
  });

  it('YAML that does not parse is one skipped record', async () => {
    const { jobs, stats: s } = await loadTrace(write('bad.yml', 'id: [unclosed\n'));
    expect(jobs).toHaveLength(0);
    expect(s.skippedJobs).toEqual({ unparsable: 1 });
  });

  it('JSONL of specs, and records from memory', async () => {
    const text = [JSON.stringify(spec), JSON.stringify({ submit_s: 3, job: { ...spec, id: 'etl-43' } })].join('\n');
    const { jobs } = await loadTrace(write('specs.jsonl.gz', text, true));
    expect(jobs.map((j) => j.submitS)).toEqual([0, 3]);
    const r = readRecords([spec, { nope: true }]);
    const got: TraceJob[] = [];
    for await (const j of r) got.push(j);
    expect(got).toHaveLength(1);
    expect(r.stats.skippedJobs).toEqual({ unknown_format: 1 });
  });

  it('a forced format refuses records of another', async () => {
    const r = readRecords([spec], { format: 'google2011' });
    for await (const _ of r) expect.unreachable();
    expect(r.stats.skippedJobs).toEqual({ unknown_format: 1 });
  });
});
