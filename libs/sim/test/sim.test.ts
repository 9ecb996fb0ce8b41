import { describe, expect, it } from 'vitest';
import { BUNDLED } from '@tessera/workloads';
import { cellViolations, jobViolations, runSimulation, summarize } from '../src/index.ts';
import { cell, config, jobs, simulate, space } from './fixtures.ts';

const busy = jobs({ jobs: 300, gapS: 0.35, maxTasks: 20 });

describe('simulator', () => {
  it('is deterministic: the same seed and inputs give an identical summary', () => {
    const a = summarize(simulate({ seed: 3, schedulers: 4, partitions: 8 }, cell(100), busy).stats, config({ seed: 3, schedulers: 4, partitions: 8 }), space);
    const b = summarize(simulate({ seed: 3, schedulers: 4, partitions: 8 }, cell(100), busy).stats, config({ seed: 3, schedulers: 4, partitions: 8 }), space);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.placements).toBeGreaterThan(1000);
    const c = summarize(simulate({ seed: 4, schedulers: 4, partitions: 8 }, cell(100), busy).stats, config({ seed: 4, schedulers: 4, partitions: 8 }), space);
    expect(JSON.stringify(c)).not.toBe(JSON.stringify(a));
  });

  it('is deterministic end to end from the trace files (everything but wall_s)', async () => {
    const o = { sizes: BUNDLED.alibaba2017Sample, nodes: 150, load: 0.8, arrivalWindowS: 120, maxTaskDurationS: 60, seed: 9, schedulers: 4, partitions: 8 };
    const a = await runSimulation(o, false);
    const b = await runSimulation(o, true);
    expect(b.wall_s).toBeGreaterThanOrEqual(0);
    delete b.wall_s;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.jobs).toBeGreaterThan(0);
  });

  it.each([
    { mode: 'latency-first', conflict: 'fine' },
    { mode: 'state-sync', conflict: 'fine' },
    { mode: 'quality-first', conflict: 'coarse' },
    { mode: 'adaptive', conflict: 'coarse' },
  ] as const)('keeps the invariants ($mode, $conflict): no node over-committed, every task placed once or its job reported', ({ mode, conflict }) => {
    const arrivals = jobs({ jobs: 200, gapS: 1.5, maxTasks: 40, gangShare: 0.2, impossibleShare: 0.05, seed: 11 });
    const sim = simulate({ mode, granularity: conflict, schedulers: 6, partitions: 12, syncIntervalMs: 2000 }, cell(60, 8000, 32768), arrivals);
    expect(cellViolations(sim.cell)).toEqual([]);
    expect(jobViolations(sim.finished!)).toEqual([]);
    // No job dropped: every submitted job finished, and what the jobs say is placed was committed.
    expect(sim.finished!.length).toBe(arrivals.length);
    const placed = sim.finished!.reduce((n, r) => n + r.placed.size, 0);
    expect(placed).toBe(sim.stats.placements);
    expect(sim.stats.jobsUnschedulable).toBeGreaterThan(0); // the impossible tasks
    for (const r of sim.finished!) {
      if (r.state === 'unschedulable') expect(Object.keys(r.reasons).length).toBeGreaterThan(0);
    }
    // Tasks still running are exactly placed tasks.
    for (const a of sim.cell.placedTasks()) expect(sim.finished!.some((r) => r.placed.get(a.taskId) === a.nodeId)).toBe(true);
  });

  it('with several schedulers, state-sync has more conflicts than latency-first at the same sync interval', () => {
    const arrivals = jobs({ jobs: 500, gapS: 0.4, maxTasks: 30, gangShare: 0, impossibleShare: 0, constrainedShare: 0, seed: 5 });
    const run = (mode: 'latency-first' | 'state-sync') => simulate({ mode, schedulers: 8, partitions: 16, syncIntervalMs: 2000, qualitySample: 0 }, cell(120), arrivals).stats;
    const lf = run('latency-first');
    const ss = run('state-sync');
    const frac = (s: typeof lf) => s.conflicts / s.proposedClaims;
    expect(ss.conflicts).toBeGreaterThan(0);
    expect(frac(ss)).toBeGreaterThan(2 * frac(lf));
  });
});
