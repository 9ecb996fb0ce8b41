import { describe, expect, it } from 'vitest';
import { validateJobSpec, type JobSpecInput } from '@tessera/core';
import { BUNDLED } from '@tessera/workloads';
import { buildWorkload, cellViolations, evictionViolations, jobViolations, summarize, type SimConfig, type SimJob } from '../src/index.ts';
import { cell, config, simulate, space } from './fixtures.ts';

function job(submitS: number, spec: JobSpecInput): SimJob {
  const v = validateJobSpec(spec, space);
  if (!v.ok) throw new Error(`${v.error.path}: ${v.error.message}`);
  return { submitS, job: v.job };
}

/**
 * One 16-core node. At 0 s a batch job (preemptible, priority 0) fills it with 4 × 4 cores for
 * 300 s. At 60 s (past the 30 s minimum run time) a production job (priority 10, not
 * preemptible) asks 4 cores for 10 s: it fits nowhere unless a batch task goes. At 310 s a
 * preemptible probe asks the whole node: it can only start once the victim's second run (300 s
 * from its re-placement) ends, so it shows whether the victim's first end was really cancelled.
 */
const arrivals: SimJob[] = [
  job(0, { id: 'batch', priority: 0, preemptible: true, tasks: [{ name: 'w', count: 4, resources: { cpu_millis: 4000, mem_mib: 1024 }, duration_s: 300 }] }),
  job(60, { id: 'prod', priority: 10, tasks: [{ name: 'p', count: 1, resources: { cpu_millis: 4000, mem_mib: 1024 }, duration_s: 10 }] }),
  job(310, { id: 'probe', priority: 0, preemptible: true, tasks: [{ name: 'x', count: 1, resources: { cpu_millis: 16_000, mem_mib: 1024 }, duration_s: 1 }] }),
];

const base: Partial<SimConfig> = { schedulers: 1, partitions: 1, syncIntervalMs: 1000, seed: 5, retry: { maxWaitMs: Infinity, conflictWindowMs: Infinity } };

function run(over: Partial<SimConfig>) {
  const sim = simulate({ ...base, ...over }, cell(1), arrivals);
  const delayS = (id: string) => {
    const r = sim.finished!.find((x) => x.jobId === id)!;
    return (r.finishedAt! - r.submittedAt) / 1000;
  };
  return { sim, delayS, summary: summarize(sim.stats, config({ ...base, ...over }), space) };
}

describe('simulator preemption', () => {
  it('places a production job that fits nowhere by evicting one batch task, which is re-queued once and placed again', () => {
    const { sim, delayS, summary } = run({ preemption: {} });
    const p = sim.stats.preemption!;
    expect(delayS('prod')).toBeLessThan(2);
    expect(p.evictions).toBe(1);
    expect(p.preemptorTasks).toBe(1);
    expect(p.ledger).toHaveLength(1);
    const e = p.ledger[0];
    expect(e.jobId).toBe('batch');
    expect(e.requeued).toBe(1);
    // Placed again once the production task's 10 s are over (not before: the node is full).
    expect(e.placedAgainAtMs! - e.atMs).toBeGreaterThanOrEqual(10_000);
    expect(e.placedAgainAtMs! - e.atMs).toBeLessThan(60_000);
    // The victim's first end (at 300 s) was cancelled: its second run holds the node until ~370 s.
    expect(delayS('probe')).toBeGreaterThan(50);
    expect(summary.preemption).toMatchObject({ evictions: 1, requeued: 1, placed_again: 1, given_up: 0, pending_at_end: 0, over_commits: 0, victims_per_preemptor: 1 });
    // The victim had run from 0 s to the production job's commit at ~60 s.
    expect(summary.preemption!.lost_task_s).toBeGreaterThan(59);
    expect(summary.preemption!.lost_task_s).toBeLessThan(62);
    expect(p.overCommits).toEqual([]);
    expect(cellViolations(sim.cell)).toEqual([]);
    expect(evictionViolations(p.ledger)).toEqual([]);
    expect(jobViolations(sim.finished!, p.ledger)).toEqual([]);
    // Without the ledger, the victim's second placement is a task placed twice.
    expect(jobViolations(sim.finished!)).toEqual([`task ${e.taskId} placed twice`]);
  });

  it('without preemption the production job waits for a batch task to end, and nothing is evicted', () => {
    const { sim, delayS, summary } = run({});
    expect(delayS('prod')).toBeGreaterThan(230);
    expect(sim.stats.preemption).toBeUndefined();
    expect(summary.preemption).toBeUndefined();
    expect(cellViolations(sim.cell)).toEqual([]);
    expect(jobViolations(sim.finished!)).toEqual([]);
  });

  it('respects the minimum run time: a batch task younger than minRuntimeS is no victim', () => {
    const { sim, delayS } = run({ preemption: { minRuntimeS: 120 } });
    expect(sim.stats.preemption!.evictions).toBe(1);
    // Evicted only once the batch tasks are 120 s old (the production job retries until then).
    expect(delayS('prod')).toBeGreaterThanOrEqual(60);
    expect(delayS('prod')).toBeLessThan(100);
  });

  it('checks the ledger: a victim re-queued twice, or never placed again, is a violation', () => {
    const ok = { taskId: 't', jobId: 'j', atMs: 10, requeued: 1, placedAgainAtMs: 20, givenUp: false };
    expect(evictionViolations([ok])).toEqual([]);
    expect(evictionViolations([{ ...ok, requeued: 2 }])).toHaveLength(1);
    expect(evictionViolations([{ ...ok, placedAgainAtMs: undefined }])).toHaveLength(1);
    expect(evictionViolations([ok, { ...ok, atMs: 15, placedAgainAtMs: 30 }])).toHaveLength(1);
  });

  it('splits delays by class and, with a production priority, submits the jobs below it preemptible', async () => {
    const { summary } = run({ preemption: {}, productionPriority: 10 });
    expect(summary.delay_by_class!.production.jobs_placed).toBe(1);
    expect(summary.delay_by_class!.production.delay_ms.max).toBeLessThan(2000);
    expect(summary.delay_by_class!.batch.jobs_placed).toBe(2);
    const w = await buildWorkload({ workload: BUNDLED.google2011Sample, nodes: 10, seed: 1, maxTaskDurationS: 600, defaultTaskDurationS: 60, preemptibleBelow: 9 });
    let n = 0;
    for (const j of w.arrivals) {
      expect(j.job.preemptible === true).toBe(j.job.priority < 9);
      if (++n === 300) break;
    }
    expect(n).toBe(300);
  });
});
