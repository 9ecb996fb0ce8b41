import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import type { JobListing } from '@tessera/protocol';
import { parsePromText } from '../src/core/prom-text.ts';
import { summarizeEntry, summarizeRecord } from '../src/console/commit-tail.ts';
import { leaderOf, nodesPanel, ratePoint, schedulerPanels, type Scrape } from '../src/console/frame.ts';
import { jobRows } from '../src/console/jobs-table.ts';

const scrape = (at: number, sched: string, cell: string): Scrape => ({
  at,
  services: [
    { name: 'scheduler-0', kind: 'scheduler', samples: parsePromText(sched) },
    { name: 'cell-state', kind: 'cell-state', samples: parsePromText(cell) },
    { name: 'cell-state-b', kind: 'cell-state', samples: undefined },
  ],
});

describe('console frames', () => {
  const before = scrape(0, 'tessera_scheduler_placements_total 100\ntessera_scheduler_job_delay_seconds_bucket{le="0.1"} 0\ntessera_scheduler_job_delay_seconds_bucket{le="1"} 0\ntessera_scheduler_job_delay_seconds_bucket{le="+Inf"} 0',
    'tessera_commit_claims_total{outcome="committed"} 90\ntessera_commit_conflicts_total{reason="resources"} 10\ntessera_cell_leader 1');
  const after = scrape(2000, [
    'tessera_scheduler_placements_total 300', 'tessera_scheduler_job_delay_seconds_bucket{le="0.1"} 99', 'tessera_scheduler_job_delay_seconds_bucket{le="1"} 100',
    'tessera_scheduler_job_delay_seconds_bucket{le="+Inf"} 100', 'tessera_scheduler_view_age_seconds{partition="1"} 0.25', 'tessera_scheduler_view_age_seconds{partition="9"} 3',
    'tessera_scheduler_mode{mode="latency-first"} 0', 'tessera_scheduler_mode{mode="adaptive"} 1', 'tessera_scheduler_effective_mode{mode="quality-first"} 1',
  ].join('\n'), 'tessera_commit_claims_total{outcome="committed"} 270\ntessera_commit_conflicts_total{reason="resources"} 30\ntessera_cell_leader 1');

  it('turns two scrapes into rates and the interval\'s p99 delay', () => {
    const r = ratePoint(before, after);
    expect(r).toMatchObject({ at: 2000, placementsPerS: 100, claimsPerS: 90, conflictsPerS: { resources: 10 } });
    expect(r.delayP99S).toBeCloseTo(0.1, 5);
    // A restarted scheduler (counter went down) counts from zero, never negative.
    expect(ratePoint(after, { ...before, at: 4000 }).placementsPerS).toBe(50);
  });

  it('reads each scheduler\'s mode and view age per partition, and the leader', () => {
    expect(schedulerPanels(after, 4)).toEqual([{ name: 'scheduler-0', up: true, mode: 'adaptive', effectiveMode: 'quality-first', viewAgeS: [null, 0.25, null, null] }]);
    expect(leaderOf(after)).toBe('cell-state');
  });

  it('lays nodes out by partition with their state code and fullest-resource allocation', () => {
    const node = (id: string, partition: number, state: 'ready' | 'lost', cpu: number) => ({ id, partition, state, labels: {}, capacity: { cpu_millis: 1000, mem_mib: 100 }, allocated: { cpu_millis: cpu, mem_mib: 10 }, version: 1 });
    const p = nodesPanel([node('b', 1, 'ready', 500), node('a', 1, 'lost', 0), node('c', 0, 'ready', 2000)], []);
    expect(p).toMatchObject({ ids: ['c', 'a', 'b'], partition: [0, 1, 1], state: [0, 2, 0], alloc: [100, 10, 50] });
  });
});

describe('console commit-log tail', () => {
  it.each([
    [{ t: 'commit', txns: [{}, {}], task: ['a', 'b', 'c'], job: [], node: [] }, 'commit 3 claims in 2 txns'],
    [{ t: 'register', agent: 'agent-0', nodes: [{}, {}] }, 'register 2 nodes (agent-0)'],
    [{ t: 'job', id: 'j1', tenant: 'team' }, 'job j1 (team)'],
    [{ t: 'cordon', node: 'n-1' }, 'cordon n-1'],
    [null, 'unreadable record'],
  ])('%j → %s', (rec, line) => {
    expect(summarizeRecord(rec)).toBe(line);
  });
  it('reads an entry\'s header and caps its records', () => {
    const e = summarizeEntry(7, encode({ v: 1, at: 5, writer: 'cs', records: Array.from({ length: 10 }, () => ({ t: 'lost', nodes: ['x'] })) }));
    expect(e).toMatchObject({ seq: 7, at: 5, writer: 'cs' });
    expect(e.records).toHaveLength(9);
    expect(e.records[8]).toBe('… 2 more records');
    expect(summarizeEntry(8, new Uint8Array([0xc1])).records).toEqual(['undecodable entry']);
  });
});

describe('console jobs table', () => {
  const jobs: JobListing[] = Array.from({ length: 1200 }, (_, i) => ({ id: `j${i}`, tenant: i % 2 ? 'odd' : 'even', state: i === 3 ? 'unschedulable' : 'placed', tasks: [], taskTotal: 2, taskStates: { placed: 2 } }));
  const read = async (r: { offset: number; limit: number; ids?: string[] }) => {
    const all = r.ids ? jobs.filter((j) => r.ids!.includes(j.id)) : jobs;
    return { total: all.length, items: all.slice(r.offset, r.offset + r.limit) };
  };
  it('lists the newest first, searches, and finds an old job by exact id', async () => {
    expect((await jobRows(read, '', 3)).rows.map((r) => r.id)).toEqual(['j1199', 'j1198', 'j1197']);
    expect((await jobRows(read, 'unschedulable', 10)).rows.map((r) => r.id)).toEqual(['j3']);
    const exact = await jobRows(read, 'j5', 2);
    expect(exact.rows[0]).toMatchObject({ id: 'j5', tasks: 2, taskStates: { placed: 2 } });
    expect(exact.total).toBe(1200);
  });
});

describe('up: registration progress', () => {
  it('reports at most twice a second, and always the last count', async () => {
    const { registrationProgress } = await import('../src/shell/up.ts');
    const lines: string[] = [];
    let t = 0;
    const p = registrationProgress((s) => lines.push(s), () => t);
    p(100, 10_000); t = 100; p(200, 10_000); t = 600; p(5000, 10_000); t = 650; p(10_000, 10_000);
    expect(lines).toEqual(['tessera: registering nodes: 100/10,000', 'tessera: registering nodes: 5,000/10,000', 'tessera: registering nodes: 10,000/10,000']);
  });
});
