/** The documented mapping rules, one hand-written row each (table-driven). */
import { describe, expect, it } from 'vitest';
import {
  ALIBABA2017_MEM_MIB_PER_NORM,
  GOOGLE2011_CPU_MILLIS_PER_NORM,
  GOOGLE2011_MEM_MIB_PER_NORM,
  convertRecord,
  detectFormat,
  google2011TaskRunS,
  taskDurationS,
  type ConvertResult,
} from '../src/index.ts';

function ok(r: ConvertResult) {
  if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
  return r;
}

const ali = (task: Record<string, unknown>) => ({ job: '1', submit_s: 10, tasks: [{ name: '7', count: 3, cpu_millis: 500, plan_cpu: 50, mem_norm: 0.5, ...task }] });

describe('alibaba2017 rules', () => {
  it.each([
    ['CloudSimPy instance runtime first', { csp_mean_inst_runtime_s: 12.5, duration_s: 40 }, 12.5],
    ['else task wall time', { duration_s: 40 }, 40],
    ['zero wall time is a real value', { duration_s: 0 }, 0],
    ['negative wall time is unknown', { duration_s: -1 }, undefined],
    ['neither: unknown', { status: 'Running', duration_s: null }, undefined],
  ])('%s', (_name, fields, expected) => {
    const r = ok(convertRecord(ali(fields)));
    expect(r.job.job.tasks[0].duration_s).toBe(expected);
    expect(r.tasksWithoutDuration).toBe(expected === undefined ? 3 : 0);
  });

  it('cpu copied, memory scaled by the documented constant, count = instances', () => {
    const r = ok(convertRecord(ali({ duration_s: 1 })));
    expect(r.job.job.tasks[0]).toMatchObject({ name: '7', count: 3, resources: { cpu_millis: 500, mem_mib: 0.5 * ALIBABA2017_MEM_MIB_PER_NORM } });
    expect(r.job.job).toMatchObject({ id: '1', tenant: 'default', priority: 100 });
    expect(ok(convertRecord(ali({}), { memMibPerNorm: 1000 })).job.job.tasks[0].resources.mem_mib).toBe(500);
  });

  it('a task without plan_cpu is skipped; a job left empty is skipped as no_tasks', () => {
    const r = convertRecord(ali({ cpu_millis: null, plan_cpu: null, mem_norm: null }));
    expect(r).toMatchObject({ ok: false, reason: 'no_tasks', skippedGroups: [{ reason: 'no_resource_request', tasks: 3 }] });
  });

  it('idPrefix', () => {
    expect(ok(convertRecord(ali({}), { idPrefix: 'a17-' })).job.job.id).toBe('a17-1');
  });
});

describe('google2011 rules', () => {
  it.each([
    ['run_s when > 0', 30, 100, 200, 30],
    ['end − start when it never accumulated run time', 0, 100, 100.5, 0.5],
    ['unknown when it never ran', 0, null, 200, null],
    ['still running: run_s up to the window end', 500, 100, null, 500],
  ])('%s', (_n, run, start, end, expected) => {
    expect(google2011TaskRunS(run, start, end)).toBe(expected);
  });

  const row = {
    job: '42', submit_s: 700.5, initial: false, user: 'u1', priority: null, sched_class: 2,
    tasks: [
      { name: 'g0', count: 3, cpu_norm: 0.0625, mem_norm: 0.5, disk_norm: 0.001, diff_machine: 1, priority: 2, sched_class: 2,
        inst: { index: [0, 1, 2], submit_s: [700.5, 700.5, 700.5], start_s: [701, 702, null], end_s: [711, null, null], end_event: ['FINISH', null, null], run_s: [10, 30, 0], attempts: [1, 1, 0] } },
      { name: 'g1', count: 1, cpu_norm: 0.5, mem_norm: 0.955, disk_norm: 0, diff_machine: 0, priority: 9, sched_class: 2,
        inst: { index: [3], submit_s: [701], start_s: [702], end_s: [712], end_event: ['KILL'], run_s: [10], attempts: [1] } },
    ],
  };

  it('groups, scaled requests, tenant, highest group priority, per-task durations, meta', () => {
    const r = ok(convertRecord(row));
    const j = r.job;
    expect(j.submitS).toBe(700.5);
    expect(j.job).toMatchObject({ id: '42', tenant: 'u1', priority: 9 });
    expect(j.job.tasks[0].resources).toEqual({ cpu_millis: 0.0625 * GOOGLE2011_CPU_MILLIS_PER_NORM, mem_mib: 0.5 * GOOGLE2011_MEM_MIB_PER_NORM });
    expect(j.job.tasks[1].resources).toEqual({ cpu_millis: 16_000, mem_mib: 125_173.76 });
    expect(j.taskDurationsS).toEqual({ g0: [10, 30, null], g1: [10] });
    expect(j.job.tasks[0].duration_s).toBe(20); // mean of the known run times
    expect(taskDurationS(j, 'g0', 1)).toBe(30);
    expect(taskDurationS(j, 'g0', 2)).toBeUndefined();
    expect(r.tasksWithoutDuration).toBe(1);
    expect(r.tasksRightCensored).toBe(1);
    expect(j.meta).toEqual({ initial: false, diff_machine_groups: 1, sched_class: 2 });
  });

  it('requireDuration drops the tasks that never ran and counts them', () => {
    const r = ok(convertRecord(row, { requireDuration: true }));
    expect(r.job.job.tasks[0].count).toBe(2);
    expect(r.job.taskDurationsS?.g0).toEqual([10, 30]);
    expect(r.skippedGroups).toMatchObject([{ reason: 'no_duration', tasks: 1 }]);
  });

  it('per-task arrays of the wrong length make the group invalid', () => {
    const bad = { ...row, tasks: [{ ...row.tasks[0], inst: { ...row.tasks[0].inst, run_s: [1] } }] };
    expect(convertRecord(bad)).toMatchObject({ ok: false, reason: 'no_tasks', skippedGroups: [{ reason: 'invalid_record' }] });
  });
});

describe('alibaba_gpu2023 rules', () => {
  const pod = (t: Record<string, unknown>) => ({
    job: 'openb-pod-9', submit_s: 5, qos: 'BE',
    tasks: [{ name: 'pod', count: 1, cpu_millis: 8000, mem_mib: 30000, num_gpu: 1, gpu_milli: 1000, gpu_spec: null, start_s: 6, end_s: 66, duration_s: 60, phase: 'Succeeded', ...t }],
  });
  it.each([
    ['whole GPUs: gpu = num_gpu (and the matching gpu_milli)', { num_gpu: 2, gpu_milli: 1000 }, { gpu: 2, gpu_milli: 2000 }],
    ['a share of one GPU: gpu_milli', { num_gpu: 1, gpu_milli: 470 }, { gpu_milli: 470 }],
    ['no GPU', { num_gpu: 0, gpu_milli: 0 }, {}],
  ])('%s', (_n, t, gpuResources) => {
    const r = ok(convertRecord(pod(t)));
    expect(r.job.job.tasks[0].resources).toEqual({ cpu_millis: 8000, mem_mib: 30000, ...gpuResources });
    expect(r.job.job.tasks[0].duration_s).toBe(60);
    expect(r.job.meta).toEqual({ qos: 'BE', phase: 'Succeeded' });
  });

  it('gpu_spec becomes an `in` constraint on gpu_model', () => {
    const r = ok(convertRecord(pod({ gpu_spec: 'V100M16|V100M32' })));
    expect(r.job.job.tasks[0].constraints).toEqual([{ label: 'gpu_model', op: 'in', values: ['V100M16', 'V100M32'] }]);
  });
});

describe('detectFormat', () => {
  it.each([
    [{ job: '1', submit_s: 0, tasks: [{ name: 'g0', count: 1, cpu_norm: 0.1, mem_norm: 0.1, inst: {} }] }, 'google2011'],
    [{ job: '1', submit_s: 0, tasks: [{ name: '1', count: 1, plan_cpu: 50, mem_norm: 0.1 }] }, 'alibaba2017'],
    [{ job: 'p', submit_s: 0, qos: 'LS', tasks: [{ name: 'pod', count: 1, num_gpu: 0, gpu_milli: 0 }] }, 'alibaba_gpu2023'],
    [{ id: 'x', tasks: [] }, 'tessera'],
    [{ submit_s: 1, job: { id: 'x' } }, 'tessera'],
    [{ hello: 1 }, undefined],
    [[1, 2], undefined],
    ['text', undefined],
  ])('%j → %s', (rec, expected) => {
    expect(detectFormat(rec)).toBe(expected);
  });
});
