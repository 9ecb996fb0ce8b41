import type { Transaction } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { reconcileHeartbeat } from '../src/core/agents.ts';
import { jobListingOf } from '../src/core/job-table.ts';
import { pendingRequeues } from '../src/core/model.ts';
import { runningTasksOf } from '../src/core/running-tasks.ts';
import { applyQueueFile } from '../src/core/queues.ts';
import { apply, claimTxn, commitNow, model, register, spec, submit } from './builders.ts';

const inFlight = { running: new Set<string>(), ended: new Set<string>() };
const evicting = (txn: Transaction, ...victims: string[]): Transaction => ({ ...txn, evictions: victims.map((taskId) => ({ taskId, nodeId: 'n1' })) });

/** n1 (1000 cpu) full with lo/t/0 (priority 50); `hi` (priority `p`) submitted. */
function saturated(p: number) {
  const m = model();
  register(m, 'a', { id: 'n1' });
  submit(m, { ...spec('lo', [{ name: 't', count: 1 }]), priority: 50 });
  submit(m, { ...spec('hi', [{ name: 't', count: 1 }]), priority: p });
  // Committed at 2,000 ms; the committer's clock (Date.now) is far past the 30 s min runtime.
  commitNow(m, [claimTxn('lo-1', [{ task: 'lo/t/0', node: 'n1', cpu: 1000 }])]);
  return m;
}

describe('preemption in the cell (DESIGN §11)', () => {
  it('evicts with the claim, stops the victim on its agent, hands it back exactly once when the stop is confirmed', () => {
    const m = saturated(100);
    const d = commitNow(m, [evicting(claimTxn('hi-1', [{ task: 'hi/t/0', node: 'n1', cpu: 1000 }]), 'lo/t/0')]);
    expect(d.results[0]).toMatchObject({ committed: ['hi/t/0'], evicted: ['lo/t/0'] });
    expect(jobListingOf(m.jobs.get('lo')!)).toMatchObject({ state: 'pending', reason: 'preempted', tasks: [{ state: 'pending', preemptions: 1, reason: 'preempted' }] });
    // Still stopping: not handed back yet, not even after a restart.
    expect(pendingRequeues(m)).toEqual([]);
    const running = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: ['lo/t/0'] }] }, 60_000, 1_000, inFlight);
    expect(running).toMatchObject({ stopTasks: ['lo/t/0'], missing: [], stopped: undefined }); // the preemptor waits for the node
    const gone = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: [] }] }, 61_000, 1_000, inFlight);
    if ('code' in gone) throw new Error('refused');
    expect(gone.stopped).toEqual({ t: 'stopped', agent: 'a', tasks: [{ taskId: 'lo/t/0', nodeId: 'n1' }] });
    const first = apply(m, gone.stopped!).effects;
    expect(first.requeues).toEqual([expect.objectContaining({ jobId: 'lo', tasks: ['lo/t/0'], attempt: 1 })]);
    expect(first.unblocked).toEqual(['n1']);
    expect(apply(m, gone.stopped!).effects.requeues).toEqual([]); // a second confirmation changes nothing
    // Once unblocked, the preemptor is sent as missing if the agent does not run it.
    const after = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: [] }] }, 70_000, 1_000, inFlight);
    expect('missing' in after && after.missing.map((a) => a.taskId)).toEqual(['hi/t/0']);
    // Placed again: no longer listed as preempted, the count stays.
    register(m, 'a', { id: 'n2' });
    commitNow(m, [claimTxn('lo-2', [{ task: 'lo/t/0', node: 'n2', cpu: 1000 }])]);
    expect(jobListingOf(m.jobs.get('lo')!)).toMatchObject({ state: 'placed', tasks: [{ state: 'placed', preemptions: 1 }] });
    expect(jobListingOf(m.jobs.get('lo')!).reason).toBeUndefined();
  });

  it('refuses an eviction the policy does not allow (priority gap), and the claim that needed it', () => {
    const m = saturated(59); // 50 + gap 10 > 59
    const d = commitNow(m, [evicting(claimTxn('hi-1', [{ task: 'hi/t/0', node: 'n1', cpu: 1000 }]), 'lo/t/0')]);
    expect(d.results[0]).toMatchObject({ committed: [], rejected: [{ taskId: 'hi/t/0', reason: 'resources' }] });
    expect(d.results[0].evicted).toBeUndefined();
    expect(m.cell.allocationOf('lo/t/0')).toBeDefined();
  });

  it('refuses to evict a task of a gang (the rest of the gang would run without it)', () => {
    const m = model();
    register(m, 'a', { id: 'n1' });
    submit(m, { ...spec('lo', [{ name: 't', count: 1 }]), priority: 50, gang: true });
    submit(m, { ...spec('hi', [{ name: 't', count: 1 }]), priority: 100 });
    commitNow(m, [claimTxn('lo-1', [{ task: 'lo/t/0', node: 'n1', cpu: 1000 }], 'all-or-nothing')]);
    const d = commitNow(m, [evicting(claimTxn('hi-1', [{ task: 'hi/t/0', node: 'n1', cpu: 1000 }]), 'lo/t/0')]);
    expect(d.results[0]).toMatchObject({ committed: [], rejected: [{ taskId: 'hi/t/0', reason: 'resources' }] });
    expect(m.cell.allocationOf('lo/t/0')).toBeDefined();
    // Schedulers learn it from the synced tasks, so they do not choose it either.
    expect(runningTasksOf(m, 'n1')).toMatchObject([{ taskId: 'lo/t/0', gang: true }]);
  });

  it('victims of a lost node are handed back at once', () => {
    const m = saturated(100);
    commitNow(m, [evicting(claimTxn('hi-1', [{ task: 'hi/t/0', node: 'n1', cpu: 1000 }]), 'lo/t/0')]);
    const { effects } = apply(m, { t: 'lost', nodes: ['n1'] });
    expect(effects.requeues.map((r) => [r.jobId, r.tasks])).toEqual([['lo', ['lo/t/0']], ['hi', ['hi/t/0']]]);
    expect(m.stopping.size).toBe(0);
  });
});

describe('reclaim in the cell (DESIGN §11): judged on the committer\'s own queue usage', () => {
  /** Queue b fills both nodes (2 × 1000 cpu, same priority as a); a (below its guarantee) needs 500. */
  function setup(bGuaranteed: number) {
    const m = model();
    register(m, 'a', { id: 'n1' }, { id: 'n2' });
    const r = applyQueueFile(m, { queues: [{ name: 'qa', guaranteed: { cpu_millis: 500 } }, { name: 'qb', ...(bGuaranteed > 0 ? { guaranteed: { cpu_millis: bGuaranteed } } : {}) }] });
    if (!r.ok) throw new Error(r.error.path);
    submit(m, { ...spec('b', [{ name: 't', count: 2 }]), queue: 'qb' });
    submit(m, { ...spec('a', [{ name: 't', count: 1 }]), queue: 'qa' });
    const inQueue = (txn: Transaction, queue: string): Transaction => ({ ...txn, claims: txn.claims.map((c) => ({ ...c, queue })) });
    commitNow(m, [inQueue(claimTxn('b-1', [{ task: 'b/t/0', node: 'n1', cpu: 1000 }, { task: 'b/t/1', node: 'n2', cpu: 1000 }]), 'qb')]);
    const reclaim = inQueue(evicting(claimTxn('a-1', [{ task: 'a/t/0', node: 'n1', cpu: 500 }]), 'b/t/0'), 'qa');
    return { m, reclaim };
  }

  it('evicts a task of a queue above its guarantee for a queue below its own, at equal priority', () => {
    const { m, reclaim } = setup(0);
    const d = commitNow(m, [reclaim]);
    expect(d.results[0]).toMatchObject({ committed: ['a/t/0'], evicted: ['b/t/0'] });
    expect(m.cell.queueAllocated().get('qb')?.[0]).toBe(1000);
    expect(m.cell.queueAllocated().get('qa')?.[0]).toBe(500);
  });

  it('refuses a reclaim that would push the victim\'s queue below its guarantee', () => {
    const { m, reclaim } = setup(1500);
    const d = commitNow(m, [reclaim]);
    expect(d.results[0]).toMatchObject({ committed: [], rejected: [{ taskId: 'a/t/0', reason: 'resources' }] });
    expect(m.cell.allocationOf('b/t/0')).toBeDefined();
  });
});
