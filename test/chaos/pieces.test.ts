/**
 * The chaos driver's pure pieces: the kill schedule, the commit-log audit (fed hand-made entries
 * in the cell-state's own record format), the agents' report overlaps, recovery times, the
 * workload shaping and the flags. Fast; no processes.
 */
import { describe, expect, it } from 'vitest';
import { ResourceSpace } from '@tessera/core';
import { ClaimColumns, encodeEntry, type LogEntry, type LogRecord } from '@tessera/cell-state';
import {
  AgentReports, asFiller, auditJobs, cappedCounts, chaosJob, ChaosUsageError, firstAfter, jobRateFor, jobWork, KILL_KINDS, LogAudit, utilisationAt,
  parseChaosArgs, planKills, quantile, recoveryAfter, summarize, type ChaosFacts,
} from '@tessera/chaos';
import { createRng } from '@tessera/policy';
import { jobSizeDistribution, type TraceJob } from '@tessera/workloads';

describe('planKills', () => {
  it.each([0.5, 1, 2, 10])('kills every kind at least once in a %s-minute run, inside the run, seeded', (minutes) => {
    const durationMs = minutes * 60_000;
    const a = planKills({ durationMs, seed: 7 });
    expect(new Set(a.map((k) => k.kind))).toEqual(new Set(KILL_KINDS));
    for (const k of a) {
      expect(k.atMs).toBeGreaterThan(0);
      expect(k.atMs).toBeLessThan(durationMs);
      expect(k.downMs).toBeGreaterThanOrEqual(300);
      expect(k.downMs).toBeLessThanOrEqual(2_500);
    }
    expect([...a].sort((x, y) => x.atMs - y.atMs)).toEqual(a);
    expect(planKills({ durationMs, seed: 7 })).toEqual(a);
    expect(planKills({ durationMs, seed: 8 })).not.toEqual(a);
  });

  it('spaces kills by the mean gap', () => {
    expect(planKills({ durationMs: 600_000, seed: 1 })).toHaveLength(28);
    expect(planKills({ durationMs: 120_000, seed: 1 })).toHaveLength(4);
  });
});

// ---- a tiny commit log in the cell-state's format -----------------------------------------------
const RES = ['cpu_millis', 'mem_mib'];
const space = ResourceSpace.of(RES);

function commit(claims: [task: string, node: string, cpu: number][], txnId = `t${Math.random()}`): LogRecord {
  const cols = new ClaimColumns(space.size);
  for (const [task, node, cpu] of claims) cols.push(task, task.split('/')[0], node, Float64Array.from([cpu, 0]));
  return { t: 'commit', txns: [{ id: txnId, n: claims.length }], task: cols.task, job: cols.job, node: cols.node, demand: cols.demandBytes() };
}

function job(id: string, count: number): LogRecord {
  return { t: 'job', id, tenant: 't', submittedAt: 0, spec: { id, tenant: 't', queue: 'default', priority: 100, gang: false, tasks: [{ name: 'g', count, resources: { cpu_millis: 100 } }] } };
}

function feed(records: LogRecord[][]): LogAudit {
  const audit = new LogAudit({ partitions: 2 });
  const all: LogRecord[][] = [
    [{ t: 'cell', resources: RES }],
    [{ t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: {}, capacity: [1000, 1000] }, { id: 'n2', labels: {}, capacity: [1000, 1000] }] }],
    ...records,
  ];
  all.forEach((recs, i) => {
    const entry: LogEntry = { v: 1, at: 1_000 + i, writer: 'w', records: recs };
    audit.applyBytes(i + 1, encodeEntry(entry));
  });
  return audit;
}

describe('LogAudit', () => {
  it('passes a clean log and counts transactions and commit times', () => {
    const a = feed([[job('j', 2)], [commit([['j/g/0', 'n1', 500]])], [commit([['j/g/1', 'n2', 500]])]]);
    expect(a.duplicates).toEqual([]);
    expect(a.overcommits).toEqual([]);
    expect(a.transactions).toBe(2);
    expect(a.claims).toBe(2);
    expect(a.commitTimes).toEqual([1_003, 1_004]);
    expect(a.unreadable).toEqual([]);
  });

  it('finds a node over-committed by claims applied as logged', () => {
    const a = feed([[job('j', 3)], [commit([['j/g/0', 'n1', 600]])], [commit([['j/g/1', 'n1', 600]])]]);
    expect(a.overcommits).toHaveLength(1);
    expect(a.overcommits[0]).toMatchObject({ nodeId: 'n1', resource: 'cpu_millis', allocated: 1200, capacity: 1000, seq: 5 });
  });

  it('finds a task committed twice without a release, and one committed again after it ended', () => {
    const a = feed([
      [job('j', 2)],
      [commit([['j/g/0', 'n1', 100]])],
      [commit([['j/g/0', 'n2', 100]])],
      [commit([['j/g/1', 'n1', 100]])],
      [{ t: 'ended', agent: 'a', tasks: [{ taskId: 'j/g/1', nodeId: 'n1', outcome: 'succeeded' }] }],
      [commit([['j/g/1', 'n2', 100]])],
    ]);
    expect(a.duplicates.map((d) => [d.taskId, d.kind])).toEqual([['j/g/0', 'still-placed'], ['j/g/1', 'after-end']]);
  });

  it('a task placed again after its node was lost is not a duplicate', () => {
    const a = feed([[job('j', 1)], [commit([['j/g/0', 'n1', 100]])], [{ t: 'lost', nodes: ['n1'] }], [commit([['j/g/0', 'n2', 100]])]]);
    expect(a.duplicates).toEqual([]);
  });

  it('reports an entry that does not decode', () => {
    const audit = new LogAudit({ partitions: 2 });
    audit.applyBytes(1, new Uint8Array([0xc1]));
    expect(audit.unreadable).toHaveLength(1);
  });
});

describe('auditJobs', () => {
  const a = feed([
    [job('done', 1), job('half', 2), job('verdict', 2), job('never', 1)],
    [commit([['done/g/0', 'n1', 100], ['half/g/0', 'n1', 100], ['verdict/g/0', 'n1', 100]])],
    [{ t: 'ended', agent: 'a', tasks: [{ taskId: 'done/g/0', nodeId: 'n1', outcome: 'succeeded' }] }],
    [{ t: 'outcome', jobId: 'verdict', scheduler: 's', state: 'unschedulable', reason: 'no room' }],
  ]);

  it('calls a job lost when acked but missing, or with tasks never placed and no verdict', () => {
    const r = auditJobs(a.state, ['done', 'half', 'verdict', 'never', 'ghost'], new Set(['done', 'half', 'verdict', 'never']));
    expect(r.lost.map((l) => l.id).sort()).toEqual(['ghost', 'half', 'never']);
    expect(r.byState).toMatchObject({ finished: 1, unschedulable: 1 });
  });

  it('a job in the stream but not in the job table is lost', () => {
    const r = auditJobs(a.state, [], new Set(['done', 'elsewhere']));
    expect(r.lost).toEqual([{ id: 'elsewhere', why: expect.stringContaining('not in the job table') }]);
  });

  it('counts preemption victims, and a victim never placed again without a verdict as lost', () => {
    const evict = (victim: string, claims: [string, string, number][]): LogRecord => ({ ...commit(claims), txns: [{ id: `e${victim}`, n: claims.length, ev: [victim] }] } as LogRecord);
    const b = feed([
      [job('low', 2), job('high', 2), job('gaveup', 1)],
      [commit([['low/g/0', 'n1', 100], ['low/g/1', 'n1', 100], ['gaveup/g/0', 'n2', 100]])],
      // high evicts low/g/0 (placed again later) and low/g/1 (never placed again), and gaveup's task (its job then given up).
      [evict('low/g/0', [['high/g/0', 'n1', 100]])],
      [evict('low/g/1', [['high/g/1', 'n1', 100]])],
      [evict('gaveup/g/0', [])],
      [commit([['low/g/0', 'n2', 100]])],
      [{ t: 'outcome', jobId: 'gaveup', scheduler: 's', state: 'unschedulable', reason: 'no room' }],
    ]);
    expect(b.anomalies).toEqual([]);
    const r = auditJobs(b.state, ['low', 'high', 'gaveup'], new Set(['low', 'high', 'gaveup']));
    expect({ victims: r.victims, evictions: r.evictions, lostVictims: r.lostVictims }).toEqual({ victims: 3, evictions: 3, lostVictims: 1 });
    expect(r.lost.map((l) => l.id)).toEqual(['low']);
  });

  it('a given-up job\'s task still placed in the listing may have moved on in the log', () => {
    const listing = new Map([['verdict', { id: 'verdict', tenant: 't', state: 'unschedulable' as const, tasks: [{ id: 'verdict/g/0', name: 'g', state: 'placed' as const, node: 'n2' }, { id: 'verdict/g/1', name: 'g', state: 'pending' as const }] }]]);
    expect(auditJobs(a.state, ['verdict'], new Set(['verdict']), listing).listingMismatches).toEqual([]);
  });

  it('compares ended jobs with the live listing', () => {
    const listing = new Map([['done', { id: 'done', tenant: 't', state: 'failed' as const, tasks: [{ id: 'done/g/0', name: 'g', state: 'failed' as const, node: 'n1' }] }]]);
    const r = auditJobs(a.state, ['done'], new Set(['done']), listing);
    expect(r.listingMismatches).toHaveLength(1);
  });
});

describe('AgentReports', () => {
  it('sees a task reported on two nodes over a common stretch, not one that moved', () => {
    const r = new AgentReports(3_000);
    for (let t = 0; t <= 5_000; t += 1_000) r.record(t, [{ id: 'n1', tasks: ['moved', 'twice'] }]);
    for (let t = 6_000; t <= 9_000; t += 1_000) r.record(t, [{ id: 'n2', tasks: ['moved'] }]);
    for (let t = 4_000; t <= 9_000; t += 1_000) r.record(t, [{ id: 'n3', tasks: ['twice'] }]);
    expect(r.concurrentRuns().map((c) => [c.taskId, c.nodes])).toEqual([['twice', ['n1', 'n3']]]);
  });

  it('splits a node\'s intervals at gaps, so running there before and after elsewhere is not an overlap', () => {
    const r = new AgentReports(1_500);
    r.record(0, [{ id: 'a', tasks: ['x'] }]);
    r.record(5_000, [{ id: 'b', tasks: ['x'] }]);
    r.record(10_000, [{ id: 'a', tasks: ['x'] }]);
    expect(r.concurrentRuns()).toEqual([]);
  });
});

describe('recovery', () => {
  it('is the later of the first commit and the first answered query after the kill', () => {
    expect(recoveryAfter(100, [50, 90, 130, 400], [80, 99, 250])).toEqual({ commitAt: 130, queryAt: 250, recoveryMs: 150 });
    expect(recoveryAfter(100, [50], [200]).recoveryMs).toBeUndefined();
    expect(firstAfter([1, 2, 2, 3], 2)).toBe(3);
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([], 0.5)).toBeUndefined();
  });
});

describe('workload', () => {
  const trace: TraceJob[] = [
    { submitS: 0, format: 'alibaba2017', job: { id: 'a', tenant: 't', queue: 'q', priority: 1, gang: false, tasks: [{ name: 'm', count: 1000, resources: { cpu_millis: 500, mem_mib: 100 }, duration_s: 300 }, { name: 'r', count: 10, resources: { cpu_millis: 100, mem_mib: 10 } }] } },
  ];
  const dist = jobSizeDistribution(trace);

  it('caps tasks per job, shortens and clamps durations, keeps requests', () => {
    const j = chaosJob(dist, createRng(1), 'x-1');
    expect(j.id).toBe('x-1');
    expect(j.tasks.reduce((n, g) => n + g.count, 0)).toBeLessThanOrEqual(40);
    expect(j.tasks[0]).toMatchObject({ name: 'm', resources: { cpu_millis: 500, mem_mib: 100 }, duration_s: 6 });
    expect(j.tasks[1].duration_s).toBe(2);
    expect(jobWork(j).cpu_millis).toBeGreaterThan(0);
  });

  it('a filler is the same job, preemptible at priority 0, running longer', () => {
    const j = chaosJob(dist, createRng(1), 'x-2');
    const f = asFiller(j, 4);
    expect(f).toMatchObject({ id: 'x-2', priority: 0, preemptible: true, tenant: j.tenant });
    expect(f.tasks.map((g) => g.duration_s)).toEqual(j.tasks.map((g) => Math.round((g.duration_s ?? 0) * 4 * 1000) / 1000));
    expect(f.tasks.map((g) => g.count)).toEqual(j.tasks.map((g) => g.count));
  });

  it('cappedCounts scales groups alike and keeps every group it can', () => {
    expect(cappedCounts([10, 10], 40)).toEqual([10, 10]);
    expect(cappedCounts([300, 100], 40)).toEqual([30, 10]);
    expect(cappedCounts([1, 1, 1], 2)).toEqual([1, 1]);
  });

  it('jobRateFor aims the bottleneck resource at the target', () => {
    expect(jobRateFor({ cpu_millis: 1000, mem_mib: 10 }, { cpu_millis: 10_000, mem_mib: 1_000 }, 0.5)).toBeCloseTo(5);
    expect(() => jobRateFor({ gpu: 1 }, { cpu_millis: 1 }, 0.5)).toThrow(RangeError);
    // A given rate reads back as the utilisation it offers.
    expect(utilisationAt({ cpu_millis: 1000, mem_mib: 10 }, { cpu_millis: 10_000, mem_mib: 1_000 }, 5)).toBeCloseTo(0.5);
  });
});

describe('flags', () => {
  it('has defaults and refuses bad values with the flag named', () => {
    const o = parseChaosArgs(['--minutes', '2', '--json'], '42');
    expect(o).toMatchObject({ minutes: 2, json: true, seed: '42', schedulers: 3, nodes: 16, nodesPerAgent: 8 });
    expect(() => parseChaosArgs(['--minutes', 'x'], '1')).toThrow(/--minutes/);
    expect(() => parseChaosArgs(['--bogus'], '1')).toThrow(ChaosUsageError);
    expect(() => parseChaosArgs(['--seed', 'a b'], '1')).toThrow(/--seed/);
  });

  it('takes --nodes and --rate (jobs/s) for a loaded run, not together with --utilisation', () => {
    const o = parseChaosArgs(['--nodes', '1000', '--rate', '90'], '1');
    expect(o).toMatchObject({ nodes: 1000, rate: 90, nodesPerAgent: 500 });
    expect(parseChaosArgs([], '1').rate).toBeUndefined();
    expect(parseChaosArgs([], '1').fillerUtilisation).toBe(0.5);
    expect(parseChaosArgs(['--filler-utilisation', '0'], '1').fillerUtilisation).toBe(0);
    expect(() => parseChaosArgs(['--filler-utilisation', '-1'], '1')).toThrow(/--filler-utilisation/);
    expect(() => parseChaosArgs(['--rate', '0'], '1')).toThrow(/--rate/);
    expect(() => parseChaosArgs(['--rate', '5', '--utilisation', '0.5'], '1')).toThrow(/--rate and --utilisation/);
  });
});

describe('summarize', () => {
  it('fails a run that lost a job or never killed some kind', () => {
    const log = feed([[job('j', 1)], [commit([['j/g/0', 'n1', 100]])]]);
    const facts: ChaosFacts = {
      seed: '1', minutes: 1, loadedS: 60, nodes: 2, schedulers: 1, cellStates: 1, ratePerS: 1, targetUtilisation: 0.5, fillerRatePerS: 0, fillerUtilisation: 0, fillers: 0,
      submitted: 2, tasksSubmitted: 2, acked: 2, unacked: 0, inStream: 2, log,
      jobs: auditJobs(log.state, ['j', 'gone'], new Set(['j'])), concurrentRuns: [], agentTasksSeen: 1,
      kills: [{ kind: 'nats', name: 'nats', atS: 10, downMs: 500, recoveryS: 1.5, restartS: 1 }], settled: true, settleS: 1,
    };
    const s = summarize(facts);
    expect(s.ok).toBe(false);
    expect(s.lost_jobs).toBe(1);
    expect(s.kills).toEqual({ 'cell-state': 0, scheduler: 0, 'node-agent': 0, nats: 1 });
    expect(s.failures).toEqual(expect.arrayContaining(['1 acknowledged jobs lost', 'no scheduler kill']));
    expect(s.recovery_s).toEqual({ p50: 1.5, max: 1.5 });
  });
});
