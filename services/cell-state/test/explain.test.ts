import { describe, expect, it } from 'vitest';
import type { JobSpec } from '@tessera/core';
import { ConflictMemory } from '../src/core/conflict-memory.ts';
import { explainJob } from '../src/core/explain.ts';
import { apply, claimTxn, commitNow, model, register, spec, submit } from './builders.ts';

describe('explain (tessera explain JOB)', () => {
  it('counts the nodes each filter refused per group, the queue position, and the last refusals', () => {
    const m = model();
    register(m, 'a', { id: 'n1', cpu: 1000, labels: { zone: 'a' } }, { id: 'n2', cpu: 4000, labels: { zone: 'b' } }, { id: 'n3', cpu: 4000, labels: { zone: 'a' } }, { id: 'n4', cpu: 4000, labels: { zone: 'a' } });
    apply(m, { t: 'lost', nodes: ['n4'] });
    submit(m, spec('first', [{ name: 'x', count: 1, cpu: 100 }]), 100);
    const big = { ...spec('big', [{ name: 'w', count: 2, cpu: 3000 }]), tasks: [{ name: 'w', count: 2, resources: { cpu_millis: 3000 }, constraints: [{ label: 'zone', op: 'in', values: ['a'] }] }] } as JobSpec;
    submit(m, big, 200);
    commitNow(m, [claimTxn('t', [{ task: 'big/w/0', node: 'n3', cpu: 3000 }])]);
    const memory = new ConflictMemory();
    memory.record([{ txnId: 't2', committed: [], rejected: [{ taskId: 'big/w/1', nodeId: 'n3', reason: 'resources' }], replayed: false } as never], 5_000);

    const r = explainJob(m, 'big', memory.of('big'))!;
    expect(r.job).toMatchObject({ id: 'big', queue: 'default', state: 'pending', taskStates: { placed: 1, pending: 1 } });
    expect(r.groups).toEqual([{
      name: 'w', count: 2, pending: 1, resources: { cpu_millis: 3000 }, nodes: 4, feasible: 0,
      refused: [
        { reason: 'constraint not satisfied', nodes: 1, unresolvable: true },
        { reason: 'insufficient resources now', nodes: 1, unresolvable: false },
        { reason: 'larger than any node', nodes: 1, unresolvable: true },
        { reason: 'node not ready', nodes: 1, unresolvable: false },
      ],
      summary: expect.stringMatching(/^0\/4 nodes are available: 1 /),
    }]);
    expect(r.queue).toEqual({ name: 'default', position: 2, waiting: 2 });
    expect(r.conflicts).toEqual([{ at: 5_000, task: 'big/w/1', node: 'n3', reason: 'resources' }]);
    expect(explainJob(m, 'nope', [])).toBeUndefined();
  });

  it('remembers a bounded number of refusals per job and of jobs', () => {
    const memory = new ConflictMemory(2, 2);
    const rej = (task: string) => ({ txnId: 'x', committed: [], rejected: [{ taskId: task, nodeId: 'n', reason: 'version' }], replayed: false }) as never;
    memory.record([rej('a/g/0'), rej('a/g/1'), rej('a/g/2'), rej('b/g/0'), rej('c/g/0')], 1);
    expect(memory.of('a')).toEqual([]);
    expect(memory.of('b').map((c) => c.task)).toEqual(['b/g/0']);
    expect(memory.of('c')).toHaveLength(1);
  });
});
