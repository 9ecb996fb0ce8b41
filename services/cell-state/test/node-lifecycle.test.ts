import { describe, expect, it } from 'vitest';
import { drainsDue, lifecycleReply, planLifecycle } from '../src/core/node-lifecycle.ts';
import { apply, claimTxn, commitNow, model, register, spec, submit } from './builders.ts';

describe('node lifecycle (DESIGN §12)', () => {
  it('cordon refuses new claims on the node, survives re-registration, uncordon lets them in again', () => {
    const m = model();
    register(m, 'a', { id: 'n1' }, { id: 'n2' });
    submit(m, spec('j', [{ name: 't', count: 2 }]));
    apply(m, ...planLifecycle(m, { op: 'cordon', nodes: ['n1', 'nope'] }, 0).records);
    expect(m.cell.node('n1')!.condition).toBe('cordoned');
    expect(commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]).results[0].rejected[0].reason).toBe('node_gone');
    register(m, 'a', { id: 'n1' });
    expect(m.cell.node('n1')!.condition).toBe('cordoned');
    apply(m, { t: 'lifecycle', op: 'uncordon', nodes: ['n1'] });
    expect(m.cell.node('n1')!.condition).toBe('ready');
    expect(commitNow(m, [claimTxn('y', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]).results[0].committed).toHaveLength(1);
    expect(planLifecycle(m, { op: 'cordon', nodes: ['nope'] }, 0)).toEqual({ records: [], unknown: ['nope'] });
  });

  it('drain waits for the deadline, then hands the remaining tasks back and ends drained; an empty draining node is due at once', () => {
    const m = model();
    register(m, 'a', { id: 'n1' }, { id: 'n2' }, { id: 'n3' });
    submit(m, spec('j', [{ name: 't', count: 2 }]));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }, { task: 'j/t/1', node: 'n2', cpu: 100 }])]);
    const plan = planLifecycle(m, { op: 'drain', nodes: ['n1', 'n3'], deadlineS: 30 }, 1_000);
    expect(plan.records).toEqual([{ t: 'lifecycle', op: 'drain', nodes: ['n1', 'n3'], deadline: 31_000 }]);
    apply(m, ...plan.records);
    expect(m.cell.node('n1')!.condition).toBe('draining');
    expect(drainsDue(m, 2_000)).toEqual(['n3']);
    expect(drainsDue(m, 31_000)).toEqual(['n1', 'n3']);
    const r = apply(m, { t: 'lifecycle', op: 'drained', nodes: ['n1', 'n3', 'n2'] });
    expect(r.effects.requeues).toMatchObject([{ jobId: 'j', tasks: ['j/t/0'] }]);
    expect(m.cell.allocationOf('j/t/0')).toBeUndefined();
    expect(m.cell.allocationOf('j/t/1')).toBeDefined(); // n2 was not draining
    expect(['n1', 'n2', 'n3'].map((id) => m.cell.node(id)!.condition)).toEqual(['drained', 'ready', 'drained']);
    expect(lifecycleReply(m, { op: 'drain', nodes: ['n1', 'zz'] }, ['zz'])).toEqual({ ok: true, nodes: [{ id: 'n1', state: 'drained', tasks: 0 }], unknown: ['zz'] });
    // A drained node stays drained when drained again, and lost wins over every administrative state.
    apply(m, { t: 'lifecycle', op: 'drain', nodes: ['n1'] });
    expect(m.cell.node('n1')!.condition).toBe('drained');
    apply(m, { t: 'lost', nodes: ['n3'] });
    apply(m, { t: 'lifecycle', op: 'uncordon', nodes: ['n3'] });
    expect(m.cell.node('n3')!.condition).toBe('lost');
  });

  it('a draining node with no known deadline (restarted from a snapshot) is due at once', () => {
    const m = model();
    register(m, 'a', { id: 'n1' });
    submit(m, spec('j', [{ name: 't', count: 1 }]));
    commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }])]);
    apply(m, { t: 'lifecycle', op: 'drain', nodes: ['n1'], deadline: 99_000 });
    expect(drainsDue(m, 0)).toEqual([]);
    m.drainDeadlines.clear();
    expect(drainsDue(m, 0)).toEqual(['n1']);
  });
});
