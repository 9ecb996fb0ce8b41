import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from '../src/core/log-records.ts';
import { jobListingOf } from '../src/core/job-table.ts';
import type { LogRecord } from '../src/core/log-records.ts';
import { applyEntry, decideCommitBatch, LogMismatchError, pendingRequeues, undoCommitBatch } from '../src/core/model.ts';
import { apply, claimTxn, commitNow, model, register, spec, submit } from './builders.ts';

describe('applyRecord', () => {
  it('registers nodes for their agent and refuses another agent unless the node is lost', () => {
    const m = model();
    expect(register(m, 'a', { id: 'n1' }, { id: 'n2' }).results[0]).toEqual({ t: 'register', registered: 2 });
    expect(m.owners.get('n1')).toBe('a');
    const r = register(m, 'b', { id: 'n1' });
    expect(r.results[0]).toEqual({ t: 'register', registered: 0 });
    expect(r.effects.anomalies).toHaveLength(1);
    apply(m, { t: 'lost', nodes: ['n1'] });
    expect(register(m, 'b', { id: 'n1', cpu: 5 }).results[0]).toEqual({ t: 'register', registered: 1 });
    expect(m.owners.get('n1')).toBe('b');
    expect(m.cell.node('n1')).toMatchObject({ condition: 'ready', capacity: Float64Array.of(5, 1000, 0) });
  });

  it('refuses a log written for other resources', () => {
    const m = model();
    expect(() => apply(m, { t: 'cell', resources: ['cpu_millis'] })).toThrow(LogMismatchError);
    const ok = model();
    apply(ok, { t: 'cell', resources: ['cpu_millis', 'mem_mib', 'gpu'] });
    expect(ok.logResources).toEqual(['cpu_millis', 'mem_mib', 'gpu']);
  });

  it('releases an ended task only for the owning agent and the node it sits on', () => {
    const m = model();
    register(m, 'a', { id: 'n1' });
    register(m, 'b', { id: 'n2' });
    submit(m, spec('j', [{ name: 't', count: 1 }]));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]);
    const ended = (agent: string, node: string) => apply(m, { t: 'ended', agent, tasks: [{ taskId: 'j/t/0', nodeId: node, outcome: 'succeeded' }] }).results[0];
    expect(ended('b', 'n1')).toEqual({ t: 'ended', released: 0 });
    expect(ended('b', 'n2')).toEqual({ t: 'ended', released: 0 });
    expect(m.cell.allocationOf('j/t/0')).toBeDefined();
    expect(ended('a', 'n1')).toEqual({ t: 'ended', released: 1 });
    expect(m.cell.allocationOf('j/t/0')).toBeUndefined();
    expect(m.cell.node('n1')!.allocated[0]).toBe(0);
    expect(m.jobs.isTaskEnded('j/t/0')).toBe(true);
  });

  it('never places an ended task again (duplicate_task)', () => {
    const m = model();
    register(m, 'a', { id: 'n1' });
    submit(m, spec('j', [{ name: 't', count: 1 }]));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]);
    apply(m, { t: 'ended', agent: 'a', tasks: [{ taskId: 'j/t/0', nodeId: 'n1', outcome: 'succeeded' }] });
    const again = commitNow(m, [claimTxn('y', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]);
    expect(again.results[0].rejected).toEqual([{ taskId: 'j/t/0', nodeId: 'n1', reason: 'duplicate_task' }]);
  });

  it('marks a lost node, releases its allocations and hands its tasks back (orphans once their job arrives)', () => {
    const m = model();
    register(m, 'a', { id: 'n1' }, { id: 'n2' });
    submit(m, spec('j', [{ name: 't', count: 3 }]));
    commitNow(m, [claimTxn('x', [
      { task: 'j/t/0', node: 'n1', cpu: 100 }, { task: 'j/t/1', node: 'n1', cpu: 100 }, { task: 'j/t/2', node: 'n2', cpu: 100 },
      { task: 'later/t/0', node: 'n1', cpu: 100 },
    ])]);
    apply(m, { t: 'outcome', jobId: 'j', scheduler: 's', state: 'unschedulable', reason: 'r' });
    const { effects } = apply(m, { t: 'lost', nodes: ['n1', 'ghost'] });
    expect(effects.lost).toEqual(['n1']);
    expect(m.cell.node('n1')).toMatchObject({ condition: 'lost' });
    expect(m.cell.node('n1')!.allocations.size).toBe(0);
    expect(effects.requeues).toHaveLength(1);
    expect(effects.requeues[0]).toMatchObject({ jobId: 'j', tasks: ['j/t/0', 'j/t/1'], attempt: 1 });
    // A handed-back job is no longer unschedulable.
    expect(m.jobs.get('j')!.outcome).toBeUndefined();
    expect(pendingRequeues(m)).toEqual([expect.objectContaining({ jobId: 'j', tasks: ['j/t/0', 'j/t/1'] })]);
    // Losing it again changes nothing.
    expect(apply(m, { t: 'lost', nodes: ['n1'] }).effects.requeues).toEqual([]);
    // The orphan: its job arrives later and is handed back then.
    const late = submit(m, spec('later', [{ name: 't', count: 1 }]));
    expect(late.effects.requeues).toEqual([expect.objectContaining({ jobId: 'later', tasks: ['later/t/0'], attempt: 1 })]);
  });

  it('hands back every never-placed task of a job whose unschedulable verdict a lost node cleared (chaos c1-109), the same on replay', () => {
    const records: LogRecord[] = [];
    const m = model();
    const rec = (r: LogRecord) => {
      records.push(r);
      return apply(m, r);
    };
    rec({ t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: {}, capacity: [1000, 1000, 0] }, { id: 'n2', labels: {}, capacity: [1000, 1000, 0] }] });
    rec({ t: 'job', id: 'c1-109', tenant: 't', submittedAt: 500, spec: spec('c1-109', [{ name: 't', count: 40 }]) as unknown as Record<string, unknown> });
    const d = commitNow(m, [claimTxn('x', [{ task: 'c1-109/t/0', node: 'n1', cpu: 100 }, { task: 'c1-109/t/1', node: 'n1', cpu: 100 }])]);
    records.push(d.record!);
    rec({ t: 'outcome', jobId: 'c1-109', scheduler: 's', state: 'unschedulable', reason: 'no node fits' });
    const { effects } = rec({ t: 'lost', nodes: ['n1'] });
    const job = m.jobs.get('c1-109')!;
    expect(job.outcome).toBeUndefined();
    expect(effects.requeues).toHaveLength(1);
    expect(effects.requeues[0].attempt).toBe(1);
    // All 40: the 2 released from n1 and the 38 never placed (before the fix: only the 2).
    expect(new Set(effects.requeues[0].tasks)).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `c1-109/t/${i}`)));
    expect(pendingRequeues(m).map((r) => [...r.tasks].sort())).toEqual([[...effects.requeues[0].tasks].sort()]);
    // Replay (standby, restart) reaches the same verdict-less job and hands back the same tasks.
    const r = model();
    const replayed = apply(r, ...records);
    expect(replayed.effects.requeues).toEqual(effects.requeues);
    expect(jobListingOf(r.jobs.get('c1-109')!)).toEqual(jobListingOf(job));
  });

  it('keeps handing back only the released tasks of a job without a verdict (a scheduler still holds the rest)', () => {
    const m = model();
    register(m, 'a', { id: 'n1' });
    submit(m, spec('j', [{ name: 't', count: 4 }]));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]);
    const { effects } = apply(m, { t: 'lost', nodes: ['n1'] });
    expect(effects.requeues).toEqual([expect.objectContaining({ jobId: 'j', tasks: ['j/t/0'], attempt: 1 })]);
  });

  it('logs running only for placed tasks on the reporting agent\'s node', () => {
    const m = model();
    register(m, 'a', { id: 'n1' });
    register(m, 'b', { id: 'n2' });
    submit(m, spec('j', [{ name: 't', count: 2 }]));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }, { task: 'j/t/1', node: 'n1', cpu: 100 }])]);
    const r = apply(m, { t: 'running', agent: 'a', tasks: [{ taskId: 'j/t/0', nodeId: 'n1' }, { taskId: 'j/t/1', nodeId: 'n2' }] });
    expect(r.results[0]).toEqual({ t: 'running', running: 1 });
    const s = apply(m, { t: 'running', agent: 'b', tasks: [{ taskId: 'j/t/1', nodeId: 'n1' }] });
    expect(s.results[0]).toEqual({ t: 'running', running: 0 });
  });
});

describe('the live commit path and its record', () => {
  it('decides a batch in order, builds one record, and replaying that record gives the same state', () => {
    const live = model();
    const replayed = model();
    for (const m of [live, replayed]) {
      register(m, 'a', { id: 'n1', cpu: 1000 }, { id: 'n2', cpu: 1000 });
      submit(m, spec('j', [{ name: 't', count: 4 }]));
    }
    const txns = [
      claimTxn('t1', [{ task: 'j/t/0', node: 'n1', cpu: 600 }, { task: 'j/t/1', node: 'n1', cpu: 600 }]),
      claimTxn('t2', [{ task: 'j/t/2', node: 'n2', cpu: 900 }, { task: 'j/t/3', node: 'ghost', cpu: 1 }], 'all-or-nothing'),
      claimTxn('t1', [{ task: 'j/t/3', node: 'n2', cpu: 1 }]),
    ];
    const seq = live.lastSeq + 1;
    const d = decideCommitBatch(live, txns, seq);
    expect(d.results.map((r) => [r.txnId, r.committed, r.rejected.map((x) => x.reason), !!r.replayed])).toEqual([
      ['t1', ['j/t/0'], ['resources'], false],
      ['t2', [], ['gang_aborted', 'node_gone'], false],
      ['t1', ['j/t/0'], ['resources'], true],
    ]);
    expect(d.decidedTxnIds).toEqual(['t1', 't2']);
    expect(d.record).toMatchObject({ t: 'commit', txns: [{ id: 't1', n: 1 }, { id: 't2', n: 0 }], task: ['j/t/0'], node: ['n1'] });

    const bytes = encodeEntry({ v: 1, at: 77, writer: 'w', records: [d.record!] });
    const decoded = decodeEntry(bytes);
    if (!decoded.ok) throw new Error('decode');
    replayed.lastSeq = seq - 1;
    applyEntry(replayed, decoded.entry, seq);
    for (const id of ['n1', 'n2']) {
      const a = live.cell.node(id)!;
      const b = replayed.cell.node(id)!;
      expect([b.version, Array.from(b.allocated), [...b.allocations.keys()]]).toEqual([a.version, Array.from(a.allocated), [...a.allocations.keys()]]);
    }
    for (const id of ['t1', 't2']) {
      const a = live.committer.outcomeOf(id)!;
      const b = replayed.committer.outcomeOf(id)!;
      expect({ ...b, nodes: b.nodes.map((n) => n.id).sort() }).toEqual({ ...a, nodes: a.nodes.map((n) => n.id).sort() });
    }
    expect(replayed.jobs.get('j')!.taskState[0]).toBe(1);
    expect(replayed.assignedAt.get('j/t/0')).toBe(77);
  });

  it('undo releases the claims and forgets the outcomes', () => {
    const m = model();
    register(m, 'a', { id: 'n1', cpu: 1000 });
    const d = decideCommitBatch(m, [claimTxn('u1', [{ task: 'j/t/0', node: 'n1', cpu: 1000 }])], m.lastSeq + 1);
    expect(m.cell.node('n1')!.allocated[0]).toBe(1000);
    undoCommitBatch(m, d);
    expect(m.cell.node('n1')!.allocated[0]).toBe(0);
    expect(m.cell.allocationOf('j/t/0')).toBeUndefined();
    expect(m.committer.outcomeOf('u1')).toBeUndefined();
    const again = decideCommitBatch(m, [claimTxn('u1', [{ task: 'j/t/0', node: 'n1', cpu: 1000 }])], m.lastSeq + 1);
    expect(again.results[0]).toMatchObject({ committed: ['j/t/0'] });
    expect(again.results[0].replayed).toBeUndefined();
  });
});

describe('restart policy (DESIGN §11)', () => {
  const failed = (m: ReturnType<typeof model>, node: string, reason = 'exit 1') =>
    apply(m, { t: 'ended', agent: 'a', tasks: [{ taskId: 'j/t/0', nodeId: node, outcome: 'failed', reason }] }).effects;
  const withRestart = (restart: Record<string, number> | undefined) => ({ ...spec('j', [{ name: 't', count: 2 }]), ...(restart ? { restart } : {}) });

  it('hands a failed task back once per failure, with a doubling backoff, until its attempts are used', () => {
    const m = model();
    register(m, 'a', { id: 'n1' }, { id: 'n2' });
    submit(m, withRestart({ attempts: 2, backoff_s: 1 }));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }, { task: 'j/t/1', node: 'n1', cpu: 100 }])]);
    // The apply clock (builders) is at 1,000 ms.
    expect(failed(m, 'n1').requeues).toEqual([expect.objectContaining({ jobId: 'j', tasks: ['j/t/0'], attempt: 1, notBefore: 2_000 })]);
    expect(failed(m, 'n1').requeues).toEqual([]); // the same failure again: released already, nothing to hand back
    expect(m.cell.allocationOf('j/t/0')).toBeUndefined();
    expect(jobListingOf(m.jobs.get('j')!)).toMatchObject({ state: 'pending', tasks: [{ state: 'pending', restarts: 1, lastFailure: 'exit 1' }, { state: 'placed' }] });
    commitNow(m, [claimTxn('y', [{ task: 'j/t/0', node: 'n2', cpu: 100 }])]);
    expect(failed(m, 'n2', 'exit 2').requeues).toEqual([expect.objectContaining({ tasks: ['j/t/0'], attempt: 2, notBefore: 3_000 })]);
    commitNow(m, [claimTxn('z', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]);
    expect(failed(m, 'n1', 'exit 3').requeues).toEqual([]);
    expect(jobListingOf(m.jobs.get('j')!)).toMatchObject({ state: 'running', tasks: [{ state: 'failed', restarts: 2, lastFailure: 'exit 3' }, { state: 'placed' }] });
    apply(m, { t: 'ended', agent: 'a', tasks: [{ taskId: 'j/t/1', nodeId: 'n1', outcome: 'succeeded' }] });
    expect(jobListingOf(m.jobs.get('j')!)).toMatchObject({ state: 'failed', reason: 'task j/t/0 failed: exit 3' });
  });

  it('a lost node counts as a failure of its tasks; attempts 0 fails at the first', () => {
    const m = model();
    register(m, 'a', { id: 'n1' }, { id: 'n2' });
    submit(m, withRestart(undefined));
    submit(m, { ...spec('once', [{ name: 't', count: 1 }]), restart: { attempts: 0 } } as never);
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }, { task: 'once/t/0', node: 'n1', cpu: 100 }])]);
    const { effects } = apply(m, { t: 'lost', nodes: ['n1'] });
    // Defaults: 3 attempts, 10 s before the first restart.
    expect(effects.requeues).toEqual([expect.objectContaining({ jobId: 'j', tasks: ['j/t/0'], notBefore: 11_000 })]);
    expect(jobListingOf(m.jobs.get('j')!).tasks[0]).toMatchObject({ state: 'pending', restarts: 1, lastFailure: 'node n1 lost' });
    expect(jobListingOf(m.jobs.get('once')!)).toMatchObject({ state: 'failed', reason: 'task once/t/0 failed: node n1 lost' });
  });
});
