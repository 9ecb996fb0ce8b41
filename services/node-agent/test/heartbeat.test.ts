import { describe, expect, it } from 'vitest';
import type { Assignment } from '@tessera/protocol';
import { heartbeatBatches, planHeartbeatReply, taskEndedRequest } from '../src/core/heartbeat.ts';
import { execResult, simDurationMs, taskLogFileName } from '../src/core/run-policy.ts';
import { TaskBook } from '../src/core/task-book.ts';

const a = (taskId: string, nodeId: string): Assignment => ({ taskId, jobId: 'j', nodeId, resources: {} });

describe('heartbeatBatches', () => {
  it('covers every node once, in batches of at most 1000, with the tasks each runs', () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `n${i}`);
    const own = new Set(ids);
    const book = new TaskBook((id) => own.has(id), { endedGraceMs: 0 });
    book.admit(a('t1', 'n0'), 0);
    book.admit(a('t2', 'n2499'), 0);
    const batches = heartbeatBatches('ag', ids, book);
    expect(batches.map((b) => b.nodes.length)).toEqual([1000, 1000, 500]);
    expect(batches.every((b) => b.agent === 'ag')).toBe(true);
    expect(batches[0].nodes[0]).toEqual({ id: 'n0', tasks: ['t1'] });
    expect(batches[2].nodes[499]).toEqual({ id: 'n2499', tasks: ['t2'] });
    expect(batches[1].nodes[0].tasks).toEqual([]);
    expect(heartbeatBatches('ag', ids, book, 5000).length).toBe(3);
  });

  it('also closes a batch at the task cap, never splitting one node', () => {
    const ids = ['n0', 'n1', 'n2', 'n3'];
    const own = new Set(ids);
    const book = new TaskBook((id) => own.has(id), { endedGraceMs: 0 });
    for (let i = 0; i < 5; i++) book.admit(a(`a${i}`, 'n0'), 0);
    for (let i = 0; i < 3; i++) book.admit(a(`b${i}`, 'n1'), 0);
    for (let i = 0; i < 7; i++) book.admit(a(`c${i}`, 'n3'), 0);
    const batches = heartbeatBatches('ag', ids, book, 1000, 6);
    expect(batches.map((b) => b.nodes.map((n) => `${n.id}:${n.tasks.length}`))).toEqual([['n0:5'], ['n1:3', 'n2:0'], ['n3:7']]);
  });
});

describe('planHeartbeatReply', () => {
  it('keeps only own unknown nodes, running tasks to stop, and de-duplicated missing assignments', () => {
    const own = new Set(['n1', 'n2']);
    const book = new TaskBook((id) => own.has(id), { endedGraceMs: 0 });
    book.admit(a('running', 'n1'), 0);
    const plan = planHeartbeatReply(
      { ok: true, unknownNodes: ['n2', 'foreign', 'n2'], stopTasks: ['running', 'not-running'], missing: [a('m1', 'n1'), a('m1', 'n1'), a('m2', 'n2')] },
      (id) => own.has(id), book,
    );
    expect(plan).toEqual({ reRegister: ['n2'], stop: ['running'], run: [a('m1', 'n1'), a('m2', 'n2')] });
  });
});

describe('taskEndedRequest', () => {
  it('carries outcome, exit code and a bounded reason', () => {
    const req = taskEndedRequest('ag', [
      { taskId: 't', nodeId: 'n', outcome: 'failed', exitCode: 3, reason: 'x'.repeat(5000), endedAt: 0 },
      { taskId: 'u', nodeId: 'n', outcome: 'succeeded', endedAt: 0 },
    ]);
    expect(req.tasks[0].reason).toHaveLength(2000);
    expect(req.tasks[0].exitCode).toBe(3);
    expect(req.tasks[1]).toEqual({ taskId: 'u', nodeId: 'n', outcome: 'succeeded' });
  });
});

describe('run policy', () => {
  it.each([
    [{ durationS: 30 }, { timeScale: 1, defaultDurationS: 60 }, 30_000],
    [{ durationS: 30 }, { timeScale: 10, defaultDurationS: 60 }, 3_000],
    [{}, { timeScale: 2, defaultDurationS: 60 }, 30_000],
    [{}, { timeScale: 1, defaultDurationS: Infinity }, undefined],
    [{ durationS: 0 }, { timeScale: 1, defaultDurationS: 60 }, 0],
  ])('simDurationMs(%j, %j) = %s', (asg, timing, want) => {
    expect(simDurationMs(asg, timing)).toBe(want);
  });

  it.each([
    [0, null, { outcome: 'succeeded', exitCode: 0 }],
    [3, null, { outcome: 'failed', exitCode: 3, reason: 'exited with code 3' }],
    [null, 'SIGKILL', { outcome: 'failed', exitCode: 137, reason: 'killed by SIGKILL' }],
    [null, 'SIGTERM', { outcome: 'failed', exitCode: 143, reason: 'killed by SIGTERM' }],
  ] as const)('execResult(%s, %s)', (code, signal, want) => {
    expect(execResult(code, signal)).toEqual(want);
  });

  it('task log names cannot escape the log folder', () => {
    expect(taskLogFileName('job/map/3')).toBe('job%2Fmap%2F3.log');
    expect(taskLogFileName('../x')).not.toContain('/');
    expect(taskLogFileName('..')).toBe('%2E..log');
  });
});
