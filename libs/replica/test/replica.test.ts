import { describe, expect, it } from 'vitest';
import { ConflictReason, FilterReason, SchedulerView, type JobSpecInput, type NodeSnapshot, type Transaction, type TxnResult } from '@tessera/core';
import { createPipeline, createRng, PREEMPTION, RESOURCE_FIT } from '@tessera/policy';
import { compileReplicaConfig, DEFAULT_RETRY_POLICY, GiveUpReason, IllegalJobTransitionError, isFinished, placeTasks, SchedulerReplica, STALE_ONLY, type JobRun, type JobStep, type ReplicaOptions } from '../src/index.ts';
import { commit, job, makeCell, makeReplica, reservedTotal, space, type Fixture } from './helpers.ts';

/** Proposes, commits at once, and follows retries until the job finishes (or `maxRounds`). */
function drive(fx: Fixture, r: SchedulerReplica, run: JobRun, maxRounds = 50): { rounds: number; txns: Transaction[]; now: number } {
  const txns: Transaction[] = [];
  let now = run.submittedAt;
  let rounds = 0;
  while (!isFinished(run) && rounds < maxRounds) {
    if (run.state === 'backoff') now = run.retryAt;
    const p = r.propose(run, now);
    rounds++;
    for (const t of p.txns) {
      txns.push(t);
      r.onResult(run, commit(fx, t), now);
    }
  }
  return { rounds, txns, now };
}

/** Fills node `n{i}` with a filler task so it has `free` cpu left. */
function fill(fx: Fixture, i: number, free: number): void {
  const n = fx.cell.node(`n${i}`)!;
  const demand = space.vector({ cpu_millis: n.capacity[0] - free });
  commit(fx, { id: `fill-${i}`, schedulerId: 'x', kind: 'incremental', claims: [{ taskId: `filler/${i}`, jobId: 'filler', nodeId: n.id, demand, seenVersion: n.version }] });
}

type Row = {
  name: string;
  cpus: number[];
  spec: Partial<JobSpecInput> & { tasks: JobSpecInput['tasks'] };
  options?: Partial<ReplicaOptions>;
  setup?: (fx: Fixture) => void;
  want: {
    state: 'placed' | 'unschedulable';
    txns: { id: string; kind: string; claims: number }[];
    placed: number;
    failed: number;
    reasons?: Record<string, number>;
    minRounds?: number;
  };
};

const rows: Row[] = [
  {
    name: 'a job that fits goes out as one incremental transaction and is placed',
    cpus: [4000, 4000],
    spec: { tasks: [{ name: 'map', count: 3, resources: { cpu_millis: 1000 } }] },
    want: { state: 'placed', txns: [{ id: 's0:j1:1:0', kind: 'incremental', claims: 3 }], placed: 3, failed: 0, reasons: {} },
  },
  {
    name: 'a gang goes out as one all-or-nothing transaction',
    cpus: [2000, 2000, 2000],
    spec: { gang: true, tasks: [{ name: 'w', count: 4, resources: { cpu_millis: 1000 } }, { name: 'ps', count: 1, resources: { cpu_millis: 500 } }] },
    want: { state: 'placed', txns: [{ id: 's0:j1:1:0', kind: 'all-or-nothing', claims: 5 }], placed: 5, failed: 0 },
  },
  {
    name: 'a task larger than any node fails fast: no transaction, no retry',
    cpus: [1000, 1000],
    spec: { tasks: [{ name: 'big', count: 1, resources: { cpu_millis: 2000 } }] },
    want: { state: 'unschedulable', txns: [], placed: 0, failed: 1, reasons: { [FilterReason.resources_ever]: 2 } },
  },
  {
    name: 'a gang with one task no node can take is given up whole without proposing',
    cpus: [1000, 1000],
    spec: { gang: true, tasks: [{ name: 'a', count: 2, resources: { cpu_millis: 500 } }, { name: 'b', count: 1, resources: { cpu_millis: 5000 } }] },
    want: { state: 'unschedulable', txns: [], placed: 0, failed: 3, reasons: { [FilterReason.resources_ever]: 2, [GiveUpReason.gang_unplaceable]: 1 } },
  },
  {
    name: 'a non-gang job commits what fits and reports the task that never will',
    cpus: [1000, 1000],
    spec: { tasks: [{ name: 'a', count: 2, resources: { cpu_millis: 500 } }, { name: 'b', count: 1, resources: { cpu_millis: 5000 } }] },
    want: { state: 'unschedulable', txns: [{ id: 's0:j1:1:0', kind: 'incremental', claims: 2 }], placed: 2, failed: 1, reasons: { [FilterReason.resources_ever]: 2 } },
  },
  {
    name: 'a constraint no node satisfies fails fast',
    cpus: [1000, 1000],
    spec: { tasks: [{ name: 'a', count: 1, resources: { cpu_millis: 100 }, constraints: [{ label: 'zone', op: 'in', values: ['c'] }] }] },
    want: { state: 'unschedulable', txns: [], placed: 0, failed: 1, reasons: { [FilterReason.constraint]: 2 } },
  },
  {
    name: 'no room now: the job waits with backoff, then gives up at maxWaitMs',
    cpus: [1000],
    setup: (fx) => fill(fx, 0, 100),
    options: { retry: { maxWaitMs: 100, baseBackoffMs: 10, jitter: 0 } },
    spec: { tasks: [{ name: 'a', count: 1, resources: { cpu_millis: 500 } }] },
    // backoffs 10, 20, 40, 80: rounds at 0, 10, 30, 70, 150 (≥ 100 → give up)
    want: { state: 'unschedulable', txns: [], placed: 0, failed: 1, minRounds: 5, reasons: { [FilterReason.resources_now]: 5, [GiveUpReason.no_room_timeout]: 1 } },
  },
  {
    name: 'claims are split into transactions of maxClaimsPerTxn, each with its own key',
    cpus: [8000],
    options: { maxClaimsPerTxn: 2 },
    spec: { tasks: [{ name: 'a', count: 5, resources: { cpu_millis: 100 } }] },
    want: {
      state: 'placed', placed: 5, failed: 0,
      txns: [{ id: 's0:j1:1:0', kind: 'incremental', claims: 2 }, { id: 's0:j1:1:1', kind: 'incremental', claims: 2 }, { id: 's0:j1:1:2', kind: 'incremental', claims: 1 }],
    },
  },
  {
    name: 'maxTasksPerRound: a big job goes out in rounds, each on the view as it is then',
    cpus: [8000],
    options: { maxTasksPerRound: 2 },
    spec: { tasks: [{ name: 'a', count: 5, resources: { cpu_millis: 100 } }] },
    want: {
      state: 'placed', placed: 5, failed: 0, minRounds: 3, reasons: {},
      txns: [{ id: 's0:j1:1:0', kind: 'incremental', claims: 2 }, { id: 's0:j1:2:0', kind: 'incremental', claims: 2 }, { id: 's0:j1:3:0', kind: 'incremental', claims: 1 }],
    },
  },
  {
    name: 'maxTasksPerRound never splits a gang',
    cpus: [8000],
    options: { maxTasksPerRound: 2 },
    spec: { gang: true, tasks: [{ name: 'a', count: 5, resources: { cpu_millis: 100 } }] },
    want: { state: 'placed', placed: 5, failed: 0, minRounds: 1, txns: [{ id: 's0:j1:1:0', kind: 'all-or-nothing', claims: 5 }] },
  },
  {
    name: 'maxClaimsPerTxn never splits a gang',
    cpus: [8000],
    options: { maxClaimsPerTxn: 2 },
    spec: { gang: true, tasks: [{ name: 'a', count: 5, resources: { cpu_millis: 100 } }] },
    want: { state: 'placed', placed: 5, failed: 0, txns: [{ id: 's0:j1:1:0', kind: 'all-or-nothing', claims: 5 }] },
  },
];

describe('job state machine', () => {
  it.each(rows)('$name', ({ cpus, spec, options, setup, want }) => {
    const fx = makeCell(cpus);
    setup?.(fx);
    const r = makeReplica(fx, options);
    const run = r.admit(job(spec), 0);
    const { rounds, txns } = drive(fx, r, run);
    expect(run.state).toBe(want.state);
    expect(txns.map((t) => ({ id: t.id, kind: t.kind, claims: t.claims.length }))).toEqual(want.txns);
    expect(run.placed.size).toBe(want.placed);
    expect(run.failed.length).toBe(want.failed);
    expect(run.placed.size + run.failed.length).toBe(run.taskCount);
    if (want.reasons) expect(run.reasons).toEqual(want.reasons);
    if (want.minRounds) expect(rounds).toBe(want.minRounds);
    expect(reservedTotal(r)).toBe(0);
    // What the job says is placed is exactly what the cell holds.
    for (const [taskId, nodeId] of run.placed) expect(fx.cell.allocationOf(taskId)?.nodeId).toBe(nodeId);
    for (const t of run.failed) expect(fx.cell.isTaskPlaced(t.id)).toBe(false);
  });
});

describe('conflicts', () => {
  // n0 is the better binpack target for a 600 task (0.6 vs 0.3), so both replicas pick it.
  function twoReplicas(options: Partial<ReplicaOptions> = {}) {
    const fx = makeCell([1000, 2000]);
    const a = makeReplica(fx, { schedulerId: 'a', schedulerIndex: 0, schedulers: 2, ...options });
    const b = makeReplica(fx, { schedulerId: 'b', schedulerIndex: 1, schedulers: 2, ...options });
    return { fx, a, b };
  }

  it('a stale view loses, is refreshed from the answer, and the retry lands elsewhere', () => {
    const { fx, a, b } = twoReplicas({ retry: { jitter: 0, baseBackoffMs: 10 } });
    const ja = a.admit(job({ id: 'ja', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 600 } }] }), 0);
    const jb = b.admit(job({ id: 'jb', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 600 } }] }), 0);
    const pa = a.propose(ja, 0);
    const pb = b.propose(jb, 0);
    expect(pa.txns[0].claims[0].nodeId).toBe('n0');
    expect(pb.txns[0].claims[0].nodeId).toBe('n0');
    expect(a.onResult(ja, commit(fx, pa.txns[0]), 1)).toEqual({ kind: 'placed' });
    const step = b.onResult(jb, commit(fx, pb.txns[0]), 1);
    expect(step).toEqual({ kind: 'retry', at: 11 });
    expect(jb.state).toBe('backoff');
    expect(jb.reasons).toEqual({ [ConflictReason.resources]: 1 });
    expect(jb.conflictRounds).toBe(1);
    // The answer carried n0's fresh state; the booking is gone.
    expect(b.view.node('n0')!.allocated[0]).toBe(600);
    expect(reservedTotal(b)).toBe(0);
    expect(() => b.propose(jb, 5)).toThrow(IllegalJobTransitionError);
    const retry = b.propose(jb, 11);
    expect(retry.txns.map((t) => t.id)).toEqual(['b:jb:2:0']);
    expect(retry.txns[0].claims[0].nodeId).toBe('n1');
    expect(jb.retriedClaims).toBe(1);
    expect(b.onResult(jb, commit(fx, retry.txns[0]), 12)).toEqual({ kind: 'placed' });
    expect(jb.placed.get('jb/t/0')).toBe('n1');
  });

  it('gives up after maxConflictRetries with the conflict reasons (no conflict window)', () => {
    const { fx, a, b } = twoReplicas({ retry: { maxConflictRetries: 0, conflictWindowMs: 0 } });
    const ja = a.admit(job({ id: 'ja', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 600 } }] }), 0);
    const jb = b.admit(job({ id: 'jb', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 600 } }] }), 0);
    const pa = a.propose(ja, 0);
    const pb = b.propose(jb, 0);
    a.onResult(ja, commit(fx, pa.txns[0]), 1);
    const step = b.onResult(jb, commit(fx, pb.txns[0]), 1);
    expect(step).toEqual({ kind: 'unschedulable', reasons: { [ConflictReason.resources]: 1, [GiveUpReason.conflict_retries_exhausted]: 1 } });
    expect(jb.failed.map((t) => t.id)).toEqual(['jb/t/0']);
    expect(jb.finishedAt).toBe(1);
  });

  it('a gang conflict rejects the whole gang, commits nothing, and retries it whole', () => {
    const { fx, a, b } = twoReplicas({ retry: { jitter: 0 } });
    const ja = a.admit(job({ id: 'ja', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 600 } }] }), 0);
    const jb = b.admit(job({ id: 'jb', gang: true, tasks: [{ name: 't', count: 2, resources: { cpu_millis: 600 } }] }), 0);
    const pa = a.propose(ja, 0);
    const pb = b.propose(jb, 0);
    expect(pb.txns).toHaveLength(1);
    expect(pb.txns[0].kind).toBe('all-or-nothing');
    a.onResult(ja, commit(fx, pa.txns[0]), 1);
    const res = commit(fx, pb.txns[0]);
    expect(res.committed).toEqual([]);
    expect(b.onResult(jb, res, 1).kind).toBe('retry');
    expect(fx.cell.isTaskPlaced('jb/t/0') || fx.cell.isTaskPlaced('jb/t/1')).toBe(false);
    expect(jb.pending.map((t) => t.id).sort()).toEqual(['jb/t/0', 'jb/t/1']);
    expect(Object.keys(jb.reasons).sort()).toEqual([ConflictReason.gang_aborted, ConflictReason.resources].sort());
    expect(reservedTotal(b)).toBe(0);
  });

  it('duplicate_task counts as placed: a task another proposal already committed is not placed twice', () => {
    const { fx, a, b } = twoReplicas();
    const spec = job({ id: 'same', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] });
    const ra = a.admit(spec, 0);
    const rb = b.admit(spec, 0);
    const pa = a.propose(ra, 0);
    const pb = b.propose(rb, 0);
    a.onResult(ra, commit(fx, pa.txns[0]), 1);
    const res = commit(fx, pb.txns[0]);
    expect(res.rejected.map((x) => x.reason)).toEqual([ConflictReason.duplicate_task]);
    expect(b.onResult(rb, res, 1)).toEqual({ kind: 'placed' });
    expect(fx.cell.placedTaskCount).toBe(1);
  });

  it('an answer to an unknown or already answered transaction is ignored', () => {
    const fx = makeCell([1000]);
    const r = makeReplica(fx);
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), 0);
    const p = r.propose(run, 0);
    expect(() => r.propose(run, 0)).toThrow(IllegalJobTransitionError);
    expect(r.inFlightTxns(run).map((t) => t.id)).toEqual([p.txns[0].id]);
    const res = commit(fx, p.txns[0]);
    expect(r.onResult(run, res, 1)).toEqual({ kind: 'placed' });
    expect(r.onResult(run, res, 2)).toEqual({ kind: 'ignored' });
    // Resending the same transaction (lost answer) replays the first outcome.
    expect(fx.committer.commit(p.txns[0], 99).replayed).toBe(true);
    expect(fx.cell.placedTaskCount).toBe(1);
  });
});

describe('modes', () => {
  it('adaptive resolves to quality-first, switches to latency-first on slow jobs and back with hysteresis', () => {
    const fx = makeCell([1000]);
    const r = makeReplica(fx, { mode: 'adaptive', adaptive: { thresholdMs: 1000, hysteresis: 0.5 } });
    expect(r.mode).toBe('adaptive');
    expect(r.effectiveMode).toBe('quality-first');
    // A job that took 2 s from submit to commit feeds the switch by itself.
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), 0);
    const p = r.propose(run, 0);
    expect(p.mode).toBe('quality-first');
    r.onResult(run, commit(fx, p.txns[0]), 2000);
    expect(r.effectiveMode).toBe('latency-first');
    expect(r.observeDelay(700)).toBe('latency-first');
    expect(r.observeDelay(400)).toBe('quality-first');
  });

  it.each(['latency-first', 'quality-first', 'state-sync'] as const)('%s is used as it is', (mode) => {
    const r = makeReplica(makeCell([1000]), { mode });
    expect(r.effectiveMode).toBe(mode);
    r.observeDelay(1e9);
    expect(r.effectiveMode).toBe(mode);
  });

  it.each([
    { field: 'schedulerId', value: 'a:b' },
    { field: 'schedulerIndex', value: 2 },
    { field: 'sampleSize', value: 0 },
    { field: 'syncIntervalMs', value: 0 },
    { field: 'maxClaimsPerTxn', value: 0 },
    { field: 'maxTasksPerRound', value: 0 },
  ])('refuses a configuration with $field = $value', ({ field, value }) => {
    expect(() => makeReplica(makeCell([1000]), { schedulers: 2, [field]: value })).toThrow(RangeError);
  });
});

describe('per-task retry limit and rounds (fake committer answers)', () => {
  it('a task refused more than maxConflictRetries times is given up; the rest of the job is placed', () => {
    const fx = makeCell([4000]);
    const r = makeReplica(fx, { retry: { maxConflictRetries: 1, conflictWindowMs: 0, jitter: 0, baseBackoffMs: 10 } });
    const run = r.admit(job({ tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100 } }] }), 0);
    const refuse = (txn: Transaction, taskId: string) => ({
      txnId: txn.id, seq: 1, nodes: [],
      committed: txn.claims.filter((c) => c.taskId !== taskId).map((c) => c.taskId),
      rejected: txn.claims.filter((c) => c.taskId === taskId).map((c) => ({ taskId, nodeId: c.nodeId, reason: ConflictReason.resources })),
    });
    const p1 = r.propose(run, 0);
    expect(r.onResult(run, refuse(p1.txns[0], 'j1/t/1'), 1)).toEqual({ kind: 'retry', at: 11 });
    const p2 = r.propose(run, 11);
    expect(p2.txns[0].claims.map((c) => c.taskId)).toEqual(['j1/t/1']);
    expect(r.onResult(run, refuse(p2.txns[0], 'j1/t/1'), 12)).toEqual({
      kind: 'unschedulable',
      reasons: { [ConflictReason.resources]: 2, [GiveUpReason.conflict_retries_exhausted]: 1 },
    });
    expect([...run.placed.keys()]).toEqual(['j1/t/0']);
    expect(run.failed.map((t) => t.id)).toEqual(['j1/t/1']);
    expect(run.conflictRounds).toBe(2);
    expect(reservedTotal(r)).toBe(0);
  });

  it('backoff grows with consecutive failed rounds and resets after a clean one', () => {
    const fx = makeCell([4000]);
    const r = makeReplica(fx, { maxTasksPerRound: 1, retry: { jitter: 0, baseBackoffMs: 10, maxConflictRetries: 10 } });
    const run = r.admit(job({ tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100 } }] }), 0);
    const answer = (txn: Transaction, refuse: boolean) => ({
      txnId: txn.id, seq: 1, nodes: [],
      committed: refuse ? [] : txn.claims.map((c) => c.taskId),
      rejected: refuse ? txn.claims.map((c) => ({ taskId: c.taskId, nodeId: c.nodeId, reason: ConflictReason.resources })) : [],
    });
    let p = r.propose(run, 0);
    expect(r.onResult(run, answer(p.txns[0], true), 0)).toEqual({ kind: 'retry', at: 10 });
    p = r.propose(run, 10);
    expect(r.onResult(run, answer(p.txns[0], true), 10)).toEqual({ kind: 'retry', at: 30 });
    p = r.propose(run, 30);
    // Clean, but one task is still untried: go on at once, no backoff.
    expect(r.onResult(run, answer(p.txns[0], false), 30)).toEqual({ kind: 'retry', at: 30 });
    expect(run.state).toBe('ready');
    p = r.propose(run, 30);
    expect(r.onResult(run, answer(p.txns[0], true), 30)).toEqual({ kind: 'retry', at: 40 });
  });
});

describe('conflicts during a hiccup (stale view for everyone, nodes re-registering)', () => {
  const refuseAll = (txn: Transaction, reason: ConflictReason, nodes: TxnResult['nodes'] = []): TxnResult => ({
    txnId: txn.id, seq: 1, nodes, committed: [],
    rejected: txn.claims.map((c) => ({ taskId: c.taskId, nodeId: c.nodeId, reason })),
  });

  it('a burst of node_gone refusals does not give the job up within seconds; it is placed once the cell is back', () => {
    const fx = makeCell([4000, 4000]);
    const r = makeReplica(fx);
    const run = r.admit(job({ tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100 } }] }), 0);
    let now = 0;
    let rounds = 0;
    // The committer refuses everything for the first 3 s (nodes lost while their agent reconnects).
    while (now < 3_000) {
      const p = r.propose(run, now);
      rounds++;
      const step = r.onResult(run, refuseAll(p.txns[0], ConflictReason.node_gone), now + 1);
      expect(step.kind).toBe('retry');
      now = (step as { at: number }).at;
    }
    expect(run.state).toBe('backoff');
    expect(run.refusals!.get('j1/t/0')).toBeGreaterThan(DEFAULT_RETRY_POLICY.maxConflictRetries); // the count alone would have given up
    expect(rounds).toBeLessThanOrEqual(10); // backoff grew: a few retries, not hundreds
    const p = r.propose(run, now);
    expect(r.onResult(run, commit(fx, p.txns[0]), now + 1)).toEqual({ kind: 'placed' });
    expect(run.failed).toEqual([]);
  });

  it('a task refused on every round is given up once both the count and the window are spent', () => {
    const fx = makeCell([4000]);
    const r = makeReplica(fx, { retry: { jitter: 0 } });
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), 0);
    const at: number[] = [];
    let step: JobStep = { kind: 'retry', at: 0 };
    while (step.kind === 'retry') {
      const p = r.propose(run, step.at);
      at.push(step.at);
      step = r.onResult(run, refuseAll(p.txns[0], ConflictReason.resources), step.at);
    }
    expect(step).toEqual({ kind: 'unschedulable', reasons: { [ConflictReason.resources]: at.length, [GiveUpReason.conflict_retries_exhausted]: 1 } });
    expect(run.finishedAt!).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.conflictWindowMs);
    // 10, 20, 40, 80, 160 ms (as before), then 1, 2, 4, 4, … s past the count.
    expect(at.slice(1, 9).map((t, i) => t - at[i])).toEqual([10, 20, 40, 80, 160, 1000, 2000, 4000]);
    expect(reservedTotal(r)).toBe(0);
  });

  it('takeRefresh names the partitions of refused nodes once: a delta since the view version, a snapshot for nodes the cell does not know', () => {
    const fx = makeCell([4000, 4000, 4000, 4000, 4000, 4000], 3);
    const r = makeReplica(fx, { retry: { jitter: 0 } });
    const run = r.admit(job({ tasks: [{ name: 't', count: 3, resources: { cpu_millis: 3000 } }] }), 0);
    const p = r.propose(run, 0);
    const claims = p.txns[0].claims;
    expect(new Set(claims.map((c) => c.nodeId)).size).toBe(3);
    const partOf = (id: string) => r.view.node(id)!.partition;
    const snap = (id: string) => { const n = fx.cell.node(id)!; return { ...r.view.node(id)!, version: n.version + 1, condition: 'lost' as const }; };
    // claim 0: resources (node state in the answer); claim 1: node_gone, the cell knows the node
    // (lost); claim 2: node_gone for a node the cell has no state of.
    const res: TxnResult = {
      txnId: p.txns[0].id, seq: 1, committed: [],
      nodes: [snap(claims[1].nodeId)],
      rejected: [
        { taskId: claims[0].taskId, nodeId: claims[0].nodeId, reason: ConflictReason.resources },
        { taskId: claims[1].taskId, nodeId: claims[1].nodeId, reason: ConflictReason.node_gone },
        { taskId: claims[2].taskId, nodeId: claims[2].nodeId, reason: ConflictReason.node_gone },
      ],
    };
    expect(r.onResult(run, res, 1).kind).toBe('retry');
    const want = new Map<number, number>();
    const put = (partition: number, since: number) => want.set(partition, Math.min(want.get(partition) ?? Infinity, since));
    put(partOf(claims[0].nodeId), r.view.partitions[partOf(claims[0].nodeId)].version);
    put(partOf(claims[1].nodeId), r.view.partitions[partOf(claims[1].nodeId)].version);
    put(partOf(claims[2].nodeId), -1);
    const got = r.takeRefresh(run);
    expect(new Map(got.map((q) => [q.partition, q.since]))).toEqual(want);
    expect(r.takeRefresh(run)).toEqual([]);
  });

  it('a placement_rule refusal refetches every partition (another job\'s tasks may be anywhere the label value is)', () => {
    const fx = makeCell([4000, 4000, 4000], 3);
    const r = makeReplica(fx, { retry: { jitter: 0 } });
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), 0);
    const c = r.propose(run, 0).txns[0];
    r.onResult(run, { txnId: c.id, seq: 1, committed: [], nodes: [], rejected: [{ taskId: c.claims[0].taskId, nodeId: c.claims[0].nodeId, reason: ConflictReason.placement_rule }] }, 1);
    expect(r.takeRefresh(run).map((q) => [q.partition, q.since]).sort()).toEqual([0, 1, 2].map((p) => [p, r.view.partitions[p].version]));
  });

  it('duplicate_task and gang_aborted refusals mark nothing stale', () => {
    const fx = makeCell([4000, 4000], 2);
    const r = makeReplica(fx, { retry: { jitter: 0 } });
    const run = r.admit(job({ gang: true, tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100 } }] }), 0);
    const p = r.propose(run, 0);
    const [a, b] = p.txns[0].claims;
    const res: TxnResult = {
      txnId: p.txns[0].id, seq: 1, committed: [], nodes: [],
      rejected: [{ taskId: a.taskId, nodeId: a.nodeId, reason: ConflictReason.duplicate_task }, { taskId: b.taskId, nodeId: b.nodeId, reason: ConflictReason.gang_aborted }],
    };
    r.onResult(run, res, 1);
    expect(r.takeRefresh(run)).toEqual([]);
  });
});

describe('placeTasks', () => {
  it('answers later tasks of a shape that found no room without scanning again', () => {
    const fx = makeCell([1000, 1000]);
    const r = makeReplica(fx);
    const tasks = r.admit(job({ tasks: [{ name: 'big', count: 3, resources: { cpu_millis: 600 } }, { name: 'small', count: 2, resources: { cpu_millis: 100 } }] }), 0).pending;
    const out = placeTasks(r.view, tasks, { mode: 'quality-first', scorer: 'binpack', sampleSize: 4, now: 0, rng: createRng(1) });
    expect(out.placements.map((p) => p.ok)).toEqual([true, true, false, true, true]);
    expect(out.claims.map((c) => c.taskId)).toEqual(['j1/big/0', 'j1/big/1', 'j1/small/0', 'j1/small/1']);
    const more = r.admit(job({ id: 'j2', tasks: [{ name: 'big', count: 3, resources: { cpu_millis: 600 } }] }), 0).pending;
    const again = placeTasks(r.view, more, { mode: 'quality-first', scorer: 'binpack', sampleSize: 4, now: 0, rng: createRng(1) });
    expect(again.unplaced).toHaveLength(3);
    expect(again.placements[1]).toBe(again.placements[0]);
    expect(again.placements[2]).toBe(again.placements[0]);
    expect(again.placements[0]).toMatchObject({ ok: false, retryable: true });
  });

  it('sends later tasks of a shape placed by evictions straight to the post-filters, without the walk', () => {
    // Four full nodes, each running one preemptible task; a job of three tasks that fit only by eviction.
    const view = new SchedulerView(space, 1);
    const nodes: NodeSnapshot[] = Array.from({ length: 4 }, (_, i) => ({
      id: `n${i}`, partition: 0, labels: {}, capacity: space.vector({ cpu_millis: 1000 }), allocated: space.vector({ cpu_millis: 1000 }), condition: 'ready', version: 1,
      tasks: [{ taskId: `lo${i}/t/0`, jobId: `lo${i}`, demand: space.vector({ cpu_millis: 1000 }), priority: 0, queue: 'batch', preemptible: true, startedAt: 0 }],
    }));
    view.applySync({ partition: 0, version: 1, kind: 'snapshot', nodes }, 100_000);
    const pipeline = createPipeline({ scorers: ['binpack'], postFilters: [{ name: PREEMPTION }] }, { space });
    // Count the walk: the resource-fit filter (the post-filter's own checks skip it).
    let walked = 0;
    const fit = pipeline.filters.find((f) => f.name === RESOURCE_FIT)!;
    const inner = fit.filter.bind(fit);
    fit.filter = (n, t, c) => { walked++; return inner(n, t, c); };
    const tasks = makeReplica(makeCell([1000])).admit(job({ id: 'hi', priority: 100, tasks: [{ name: 't', count: 3, resources: { cpu_millis: 1000 } }] }), 0).pending;
    const out = placeTasks(view, tasks, { mode: 'quality-first', scorer: 'binpack', sampleSize: 0, now: 100_000, rng: createRng(1), pipeline, job: { id: 'hi', priority: 100 } });
    expect(out.placements.every((p) => p.ok)).toBe(true);
    expect(new Set(out.evictions.map((e) => e.taskId)).size).toBe(3);
    expect(new Set(out.claims.map((c) => c.nodeId)).size).toBe(3);
    // One walk over the 4 nodes, for the first task only (12 when each task walked).
    expect(walked).toBe(4);
  });
});

describe('latency-first staleness bound', () => {
  // Two partitions: the fresh one is full, the other (synced long ago) shows room. Two replicas,
  // so the stale room may already be a rival's (a lone replica is unbounded by default).
  function setup(options: Partial<ReplicaOptions>) {
    const fx = makeCell([1000, 1000, 1000, 1000], 2);
    const r = makeReplica(fx, { mode: 'latency-first', syncIntervalMs: 1000, schedulers: 2, ...options }, 0);
    const fresh = fx.cell.partitionNodes(0).length > 0 ? 0 : 1;
    for (const n of fx.cell.partitionNodes(fresh)) fill(fx, n.index, 0);
    r.applySync(fx.cell.sync(fresh, r.view.partitions[fresh].version), 900);
    return { fx, r, now: 1000 };
  }

  it('does not claim room seen only in a partition staler than the bound: the task waits', () => {
    const { r, now } = setup({});
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), now);
    const p = r.propose(run, now);
    expect(p.txns).toEqual([]);
    expect(run.state).toBe('backoff');
    expect(run.reasons).toEqual({ [STALE_ONLY]: 1 });
    expect(reservedTotal(r)).toBe(0);
  });

  it.each([
    { name: 'an unbounded fallback (Infinity) claims it', options: { latencyFirstMaxStalenessMs: Infinity }, gang: false },
    { name: 'a gang ignores the bound (it must fit whole in one round)', options: {}, gang: true },
    { name: 'quality-first ignores the bound', options: { mode: 'quality-first' as const }, gang: false },
  ])('$name', ({ options, gang }) => {
    const { r, now } = setup(options);
    const run = r.admit(job({ gang, tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), now);
    const p = r.propose(run, now);
    expect(p.txns).toHaveLength(1);
    expect(run.state).toBe('in_flight');
  });
});

describe('latency-first home partitions', () => {
  // As above, but the stale partition with room is this replica's home (2 replicas over 2
  // partitions: replica i's home is partition i). No rival prefers it, so its room is claimed.
  function setup(options: Partial<ReplicaOptions>) {
    const fx = makeCell([1000, 1000, 1000, 1000], 2);
    const fresh = fx.cell.partitionNodes(0).length > 0 ? 0 : 1;
    const stale = 1 - fresh;
    const r = makeReplica(fx, { mode: 'latency-first', syncIntervalMs: 1000, schedulers: 2, schedulerIndex: stale, ...options }, 0);
    for (const n of fx.cell.partitionNodes(fresh)) fill(fx, n.index, 0);
    r.applySync(fx.cell.sync(fresh, r.view.partitions[fresh].version), 900);
    return { fx, r, now: 1000, stale };
  }

  it('claims stale room in its own home partition', () => {
    const { fx, r, now, stale } = setup({});
    expect(r.config.homePartitions?.[stale]).toBe(true);
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), now);
    const p = r.propose(run, now);
    expect(p.txns).toHaveLength(1);
    const node = p.txns[0].claims[0].nodeId;
    expect(fx.cell.partitionNodes(stale).some((n) => n.id === node)).toBe(true);
  });

  it('preferHomePartitions false keeps the bound for every partition', () => {
    const { r, now } = setup({ preferHomePartitions: false });
    expect(r.config.homePartitions).toBeUndefined();
    const run = r.admit(job({ tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), now);
    expect(r.propose(run, now).txns).toEqual([]);
    expect(run.reasons).toEqual({ [STALE_ONLY]: 1 });
  });

  it('a lone replica has no home partitions', () => {
    expect(compileReplicaConfig({ schedulerId: 's0', schedulerIndex: 0, schedulers: 1, partitions: 8, mode: 'latency-first', syncIntervalMs: 1000 }).homePartitions).toBeUndefined();
  });
});

describe('latency-first staleness bound defaults', () => {
  const base: ReplicaOptions = { schedulerId: 's0', schedulerIndex: 0, schedulers: 4, partitions: 8, mode: 'latency-first', syncIntervalMs: 1000 };
  it.each([
    ['several replicas: max(G/4, G/P)', { schedulers: 4, partitions: 8 }, 250],
    ['several replicas, few partitions: G/P', { schedulers: 2, partitions: 3 }, 1000 / 3],
    ['a lone replica has no rivals: unbounded', { schedulers: 1, partitions: 8 }, Infinity],
    ['an explicit bound wins', { schedulers: 1, latencyFirstMaxStalenessMs: 100 }, 100],
  ] as const)('%s', (_name, over, expected) => {
    expect(compileReplicaConfig({ ...base, ...over }).latencyFirstMaxStalenessMs).toBe(expected);
  });
});

describe('visit order', () => {
  it('listed: a tie between equal nodes always goes to the first listed one; seeded spreads ties', () => {
    const pick = (visitOrder: ReplicaOptions['visitOrder'], jobId: string) => {
      const fx = makeCell([4000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
      const r = makeReplica(fx, { visitOrder, scorer: 'spread', sampleSize: 8 });
      const p = r.propose(r.admit(job({ id: jobId, tasks: [{ name: 't', count: 1, resources: { cpu_millis: 100 } }] }), 0), 0);
      return p.txns[0].claims[0].nodeId;
    };
    const ids = Array.from({ length: 12 }, (_, i) => `j${i}`);
    expect(new Set(ids.map((id) => pick('listed', id)))).toEqual(new Set(['n0']));
    expect(new Set(ids.map((id) => pick(undefined, id))).size).toBeGreaterThan(1);
    expect(compileReplicaConfig({ schedulerId: 's', schedulerIndex: 0, schedulers: 1, partitions: 1, mode: 'quality-first', syncIntervalMs: 100 }).visitOrder).toBe('seeded');
  });
});
