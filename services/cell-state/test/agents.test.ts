import { describe, expect, it } from 'vitest';
import { assignmentOf, byAgent, findLostNodes, isRefusal, ownershipRefusal, reconcileHeartbeat, registrationRecord } from '../src/core/agents.ts';
import { apply, claimTxn, commitNow, model, register, spec, submit } from './builders.ts';

function setup() {
  const m = model();
  register(m, 'a', { id: 'n1' }, { id: 'n2' });
  register(m, 'b', { id: 'm1' });
  submit(m, spec('j', [{ name: 't', count: 3, duration_s: 9, command: ['x'] }]));
  commitNow(m, [claimTxn('x', [{ task: 'j/t/0', node: 'n1', cpu: 100 }, { task: 'j/t/1', node: 'n1', cpu: 100 }, { task: 'j/t/2', node: 'm1', cpu: 100 }])], 1_000);
  return m;
}

describe('registrationRecord', () => {
  it('converts capacities with the ResourceSpace', () => {
    const m = model();
    const r = registrationRecord(m, { agent: 'a', nodes: [{ id: 'n1', labels: { z: '1' }, capacity: { cpu_millis: 5, gpu: 1 } }] });
    expect(r).toEqual({ t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: { z: '1' }, capacity: [5, 0, 1] }] });
  });
  it.each([
    [{ cpu_millis: -1 }, 'nodes[0].capacity.cpu_millis'],
    [{ cpu_millis: Number.NaN }, 'nodes[0].capacity.cpu_millis'],
    [{ disk_gib: 1 }, 'nodes[0].capacity.disk_gib'],
  ])('refuses %j at %s', (capacity, path) => {
    const r = registrationRecord(model(), { agent: 'a', nodes: [{ id: 'n1', labels: {}, capacity }] });
    expect(r).toMatchObject({ refused: true, code: 'invalid', path });
  });
  it('refuses another agent\'s live node', () => {
    const m = setup();
    expect(registrationRecord(m, { agent: 'b', nodes: [{ id: 'm1', labels: {}, capacity: {} }, { id: 'n2', labels: {}, capacity: {} }] }))
      .toMatchObject({ refused: true, code: 'forbidden', path: 'nodes[1].id' });
  });
});

describe('ownershipRefusal', () => {
  it('names the first node of another agent', () => {
    const m = setup();
    expect(ownershipRefusal(m, 'a', ['n1', 'unknown', 'n2'], 'x[#]')).toBeUndefined();
    expect(ownershipRefusal(m, 'a', ['n1', 'm1'], 'x[#]')).toMatchObject({ code: 'forbidden', path: 'x[1]' });
  });
});

describe('reconcileHeartbeat', () => {
  it('answers unknown nodes, tasks to stop, missing allocations after the grace, and new running tasks', () => {
    const m = setup();
    const d = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: ['j/t/0', 'j/t/2', 'zz/t/0'] }, { id: 'n2', tasks: [] }, { id: 'nx', tasks: ['q/t/0'] }] }, 1_500, 1_000, { running: new Set(), ended: new Set() });
    if (isRefusal(d)) throw new Error('refused');
    expect(d.unknownNodes).toEqual(['nx']);
    expect(d.stopTasks).toEqual(['j/t/2', 'zz/t/0', 'q/t/0']);
    expect(d.missing).toEqual([]); // j/t/1 is within its grace
    expect(d.heard).toEqual(['n1', 'n2']);
    expect(d.running).toEqual({ t: 'running', agent: 'a', tasks: [{ taskId: 'j/t/0', nodeId: 'n1' }] });

    const later = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: ['j/t/0'] }] }, 2_000, 1_000, { running: new Set(['j/t/0']), ended: new Set() });
    if (isRefusal(later)) throw new Error('refused');
    expect(later.missing.map((a) => a.taskId)).toEqual(['j/t/1']);
    expect(later.running).toBeUndefined();
    expect(assignmentOf(m, later.missing[0])).toEqual({ taskId: 'j/t/1', jobId: 'j', nodeId: 'n1', resources: { cpu_millis: 100 }, durationS: 9, command: ['x'] });
  });

  it('does not report a task missing while its end is being logged', () => {
    const m = setup();
    const d = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: [] }] }, 9_000, 1_000, { running: new Set(), ended: new Set(['j/t/0']) });
    if (isRefusal(d)) throw new Error('refused');
    expect(d.missing.map((a) => a.taskId)).toEqual(['j/t/1']);
  });

  it('tells the agent of a lost node to register again and to stop what it runs there', () => {
    const m = setup();
    apply(m, { t: 'lost', nodes: ['n1'] });
    const d = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks: ['j/t/0'] }] }, 5_000, 0, { running: new Set(), ended: new Set() });
    expect(d).toMatchObject({ unknownNodes: ['n1'], stopTasks: ['j/t/0'], missing: [], heard: [] });
  });

  it('a node reporting the same clean list again is skipped, and any change is still reconciled', () => {
    const m = setup();
    apply(m, { t: 'running', agent: 'a', tasks: [{ taskId: 'j/t/0', nodeId: 'n1' }, { taskId: 'j/t/1', nodeId: 'n1' }] });
    const none = { running: new Set<string>(), ended: new Set<string>() };
    const hb = (tasks: string[], now: number) => {
      const d = reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'n1', tasks }] }, now, 1_000, none);
      if (isRefusal(d)) throw new Error('refused');
      return d;
    };
    for (const now of [5_000, 6_000, 7_000]) {
      expect(hb(['j/t/0', 'j/t/1'], now)).toEqual({ unknownNodes: [], stopTasks: [], missing: [], heard: ['n1'], running: undefined });
    }
    // Same count, another set: j/t/2 is allocated on m1, j/t/1 is not reported.
    const d = hb(['j/t/0', 'j/t/2'], 8_000);
    expect(d.stopTasks).toEqual(['j/t/2']);
    expect(d.missing.map((a) => a.taskId)).toEqual(['j/t/1']);
    expect(hb(['j/t/0', 'j/t/1'], 9_000).stopTasks).toEqual([]);
    // The node changes (j/t/1 ends): the same list is reconciled again.
    apply(m, { t: 'ended', agent: 'a', tasks: [{ taskId: 'j/t/1', nodeId: 'n1', outcome: 'succeeded' }] });
    expect(hb(['j/t/0', 'j/t/1'], 10_000).stopTasks).toEqual(['j/t/1']);
  });

  it('refuses a heartbeat naming another agent\'s node', () => {
    const m = setup();
    expect(reconcileHeartbeat(m, { agent: 'a', nodes: [{ id: 'm1', tasks: [] }] }, 0, 0, { running: new Set(), ended: new Set() })).toMatchObject({ refused: true, code: 'forbidden' });
  });
});

describe('assignments and liveness', () => {
  it('defers an assignment whose job is unknown, and groups by owning agent', () => {
    const m = setup();
    commitNow(m, [claimTxn('y', [{ task: 'unknown/t/0', node: 'n2', cpu: 1 }])]);
    expect(assignmentOf(m, m.cell.allocationOf('unknown/t/0')!)).toBeUndefined();
    const groups = byAgent(m, [{ nodeId: 'n1' }, { nodeId: 'm1' }, { nodeId: 'n2' }, { nodeId: 'gone' }]);
    expect([...groups].map(([a, l]) => [a, l.length])).toEqual([['a', 2], ['b', 1]]);
  });

  it('finds nodes silent for longer than the timeout', () => {
    const m = setup();
    apply(m, { t: 'lost', nodes: ['n2'] });
    const heard = new Map([['n1', 1_000], ['m1', 5_000]]);
    expect(findLostNodes(m, heard, 6_001, 5_000)).toEqual(['n1']);
    expect(findLostNodes(m, heard, 6_000, 5_000)).toEqual([]);
  });
});
