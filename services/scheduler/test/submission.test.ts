import { ResourceSpace } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { backoffLeftMs, MAX_CLAIMS_PER_TXN, prepareJob, runKeyId } from '../src/core/submission.ts';
import { formatReasons, MAX_REASON_LENGTH } from '../src/core/outcome.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib']);
const job = (extra: Record<string, unknown> = {}) => ({
  id: 'j1',
  tasks: [{ name: 'a', count: 3, resources: { cpu_millis: 100 } }, { name: 'b', count: 1, resources: { mem_mib: 10 } }],
  ...extra,
});

describe('prepareJob', () => {
  it('expands every task of a first submission', () => {
    const p = prepareJob({ job: job(), submittedAt: 1 }, space);
    expect(p.kind).toBe('ready');
    if (p.kind !== 'ready') return;
    expect(p.tasks.map((t) => t.id)).toEqual(['j1/a/0', 'j1/a/1', 'j1/a/2', 'j1/b/0']);
    expect(p.partial).toBe(false);
  });

  it('places only the listed tasks of a handed-back job', () => {
    const p = prepareJob({ job: job(), submittedAt: 1, tasks: ['j1/a/2', 'j1/b/0', 'j1/zz/9'] }, space);
    expect(p.kind === 'ready' && p.tasks.map((t) => t.id)).toEqual(['j1/a/2', 'j1/b/0']);
  });

  it('has nothing to do when no listed task exists', () => {
    expect(prepareJob({ job: job(), submittedAt: 1, tasks: ['nope'] }, space).kind).toBe('empty');
  });

  it.each([
    [{ id: 'j1', tasks: [] }, 'j1', 'tasks'],
    [{ id: 'j1', tasks: [{ name: 'a', count: 1, resources: { gpu: 1 } }] }, 'j1', 'tasks[0].resources.gpu'],
    [{ id: 'bad id!', tasks: [{ name: 'a', count: 1, resources: {} }] }, undefined, 'id'],
    [{ tasks: [{ name: 'a', count: 1, resources: {} }] }, undefined, 'id'],
    [{ id: 'j1', tasks: [{ name: 'a', count: 0, resources: {} }] }, 'j1', 'tasks[0].count'],
  ])('refuses an invalid spec %j with the path of the bad field', (spec, jobId, path) => {
    const p = prepareJob({ job: spec, submittedAt: 1 }, space);
    expect(p.kind).toBe('invalid');
    if (p.kind !== 'invalid') return;
    expect(p.jobId).toBe(jobId);
    expect(p.reason).toContain(`at ${path}:`);
  });

  it('gives up at once on a gang larger than one transaction can carry', () => {
    const spec = { id: 'g', gang: true, tasks: [{ name: 'a', count: MAX_CLAIMS_PER_TXN + 1, resources: { cpu_millis: 1 } }] };
    const p = prepareJob({ job: spec, submittedAt: 1 }, space);
    expect(p.kind).toBe('unschedulable');
    expect(p.kind === 'unschedulable' && p.reason).toContain('gang larger than one transaction');
    expect(prepareJob({ job: { ...spec, gang: false }, submittedAt: 1 }, space).kind).toBe('ready');
  });
});

describe('runKeyId', () => {
  it.each([
    ['j1', undefined, 1, 'j1'],
    ['j1', 0, 1, 'j1'],
    ['j1', undefined, 2, 'j1~0.2'],
    ['j1', 1, 1, 'j1~1.1'],
    ['j1', 2, 3, 'j1~2.3'],
  ])('%s, hand-back %s, delivery %s → %s', (jobId, handBack, delivery, want) => {
    expect(runKeyId(jobId, handBack, delivery)).toBe(want);
  });
});

describe('formatReasons', () => {
  it('lists reasons most frequent first, ties by name', () => {
    expect(formatReasons({ 'larger than any node': 3, resources: 1, 'conflict retries exhausted': 1, zero: 0 })).toBe(
      'larger than any node (3); conflict retries exhausted (1); resources (1)',
    );
  });
  it('says something useful when there is no reason', () => {
    expect(formatReasons({})).toMatch(/no node/);
  });
  it('fits the protocol limit', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < 1000; i++) many[`reason number ${i}`] = i + 1;
    expect(formatReasons(many).length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
  });
});

describe('backoffLeftMs (restart backoff)', () => {
  it.each([
    { notBefore: undefined, now: 5, want: 0 },
    { notBefore: 5, now: 5, want: 0 },
    { notBefore: 4, now: 5, want: 0 },
    { notBefore: 10.2, now: 5, want: 6 },
  ])('notBefore $notBefore at $now → $want', ({ notBefore, now, want }) => {
    expect(backoffLeftMs({ job: {}, submittedAt: 0, ...(notBefore !== undefined ? { notBefore } : {}) }, now)).toBe(want);
  });
});
