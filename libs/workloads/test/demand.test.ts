import { ResourceSpace, validateJobSpec } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  BUNDLED,
  arrivalRateForUtilisation,
  bottleneck,
  cellCapacity,
  jobSizeDistribution,
  loadTrace,
  offeredUtilisation,
  poissonArrivals,
  readMachines,
  readTrace,
  scaleArrivals,
  scaleArrivalsAsync,
  speedForUtilisation,
  syntheticCell,
  traceDemand,
  traceDemandAsync,
  type RandomSource,
  type TraceJob,
} from '../src/index.ts';

/** A tiny seeded generator for the tests (mulberry32). */
function seeded(seed: number): RandomSource {
  let s = seed >>> 0;
  return {
    next() {
      let t = (s = (s + 0x6d2b79f5) | 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

const job = (id: string, submitS: number, tasks: TraceJob['job']['tasks'], taskDurationsS?: TraceJob['taskDurationsS']): TraceJob => ({
  submitS, format: 'tessera', job: { id, tenant: 'default', queue: 'default', priority: 100, gang: false, tasks }, ...(taskDurationsS ? { taskDurationsS } : {}),
});

describe('traceDemand', () => {
  const jobs = [
    job('a', 0, [{ name: 'm', count: 2, resources: { cpu_millis: 1000, mem_mib: 100 }, duration_s: 10 }]),
    job('b', 50, [{ name: 'g0', count: 3, resources: { cpu_millis: 500 }, duration_s: 20 }], { g0: [10, 50, null] }),
    job('c', 100, [{ name: 'x', count: 4, resources: { cpu_millis: 250 } }]),
  ];

  it('sums request × run time, per-task durations first, and counts what has none', () => {
    const d = traceDemand(jobs);
    expect(d).toEqual({
      jobs: 3, tasks: 9, tasksWithoutDuration: 5, firstSubmitS: 0, lastSubmitS: 100, spanS: 100,
      resourceSeconds: { cpu_millis: 2 * 1000 * 10 + 500 * 60, mem_mib: 2 * 100 * 10 },
      requested: { cpu_millis: 2000 + 1500 + 1000, mem_mib: 200 },
    });
  });

  it('offered utilisation and the speed that reaches a target, bottleneck by default', () => {
    const d = traceDemand(jobs);
    const cap = { cpu_millis: 1000, mem_mib: 10 };
    const u = offeredUtilisation(d, cap);
    expect(u).toEqual({ cpu_millis: 0.5, mem_mib: 2 });
    expect(bottleneck(u)).toBe('mem_mib');
    expect(speedForUtilisation(d, cap, 0.8, 'cpu_millis')).toBeCloseTo(1.6);
    expect(speedForUtilisation(d, cap, 0.8)).toBeCloseTo(0.4);
    expect(() => speedForUtilisation(d, cap, 0)).toThrow(RangeError);
    expect(() => offeredUtilisation(traceDemand([jobs[0]]), cap)).toThrow(RangeError);
  });

  it('scaled arrivals offer speed × the utilisation', () => {
    const d = traceDemand(jobs);
    const cap = { cpu_millis: 1000 };
    const speed = speedForUtilisation(d, cap, 0.9, 'cpu_millis');
    const scaled = [...scaleArrivals(jobs, speed)];
    expect(offeredUtilisation(traceDemand(scaled), cap).cpu_millis).toBeCloseTo(0.9);
    expect(scaled.map((j) => j.job.id)).toEqual(['a', 'b', 'c']);
    expect([...scaleArrivals(jobs, 2, 50)].map((j) => j.submitS)).toEqual([25, 50, 75]);
    expect(() => scaleArrivals(jobs, 0)).toThrow(RangeError);
  });

  it('on the real alibaba2017 trace and machines, memory is the bottleneck', async () => {
    const { machines } = await readMachines(BUNDLED.alibaba2017Machines);
    const d = await traceDemandAsync(readTrace(BUNDLED.alibaba2017Sample));
    const u = offeredUtilisation(d, cellCapacity(machines));
    expect(bottleneck(u)).toBe('mem_mib');
    const speed = speedForUtilisation(d, cellCapacity(machines), 0.5);
    const again = await traceDemandAsync(scaleArrivalsAsync(readTrace(BUNDLED.alibaba2017Sample), speed, d.firstSubmitS));
    expect(offeredUtilisation(again, cellCapacity(machines)).mem_mib).toBeCloseTo(0.5);
  });
});

describe('jobSizeDistribution', () => {
  it('draws real jobs, deterministically for a seed, and copies them', async () => {
    const { jobs } = await loadTrace(BUNDLED.google2011Sample);
    const dist = jobSizeDistribution(jobs);
    expect(dist.jobs).toBe(1500);
    expect(dist.tasks).toBe(56_872);
    expect(dist.meanTasksPerJob).toBeCloseTo(56_872 / 1500);
    const a = Array.from({ length: 50 }, ((rng) => () => dist.sample(rng))(seeded(7)));
    const b = Array.from({ length: 50 }, ((rng) => () => dist.sample(rng))(seeded(7)));
    expect(a).toEqual(b);
    const byId = new Map(jobs.map((j) => [j.job.id, j]));
    for (const s of a) {
      const src = byId.get(s.sampledFrom)!;
      expect(s.tasks).toEqual(src.job.tasks);
      expect(s.taskDurationsS).toEqual(src.taskDurationsS);
    }
    a[0].tasks[0].count = 999_999;
    expect(byId.get(a[0].sampledFrom)!.job.tasks[0].count).not.toBe(999_999);
  });

  it('marginals: task counts per job and tasks weighted by instances', () => {
    const jobs = [
      job('small', 0, [{ name: 'a', count: 1, resources: { cpu_millis: 1 }, duration_s: 1 }]),
      job('big', 10, [{ name: 'b', count: 99, resources: { cpu_millis: 2 }, duration_s: 2 }]),
    ];
    const dist = jobSizeDistribution(jobs);
    const rng = seeded(1);
    let small = 0;
    let bigJobs = 0;
    for (let i = 0; i < 10_000; i++) {
      if (dist.sampleTask(rng).resources.cpu_millis === 1) small++;
      if (dist.sampleTaskCount(rng) === 99) bigJobs++;
    }
    expect(small / 10_000).toBeCloseTo(0.01, 2);
    expect(bigJobs / 10_000).toBeCloseTo(0.5, 1);
    expect(dist.sampleTask({ next: () => 0.999999999 })).toEqual({ resources: { cpu_millis: 2 }, durationS: 2 });
    expect(dist.meanResourceSecondsPerJob).toEqual({ cpu_millis: (1 + 99 * 2 * 2) / 2 });
    expect(dist.meanInterarrivalS).toBe(10);
    expect(() => jobSizeDistribution([])).toThrow(RangeError);
  });

  it('Poisson arrivals: valid specs, the requested rate, reproducible', async () => {
    const { jobs } = await loadTrace(BUNDLED.alibaba2017Sample);
    const dist = jobSizeDistribution(jobs);
    const cap = Object.fromEntries(Object.entries(syntheticCell(1, { cpu_millis: 64_000, mem_mib: 180_000 })[0].capacity).map(([k, v]) => [k, v * 10_000]));
    const rate = arrivalRateForUtilisation(dist, cap, 0.7);
    const out = [...poissonArrivals(dist, { ratePerS: rate, rng: seeded(3), count: 2000, idPrefix: 'p-' })];
    expect(out).toHaveLength(2000);
    expect(out.map((j) => j.job.id).slice(0, 2)).toEqual(['p-0', 'p-1']);
    for (const tj of out) expect(validateJobSpec(tj.job, ResourceSpace.default).ok).toBe(true);
    const meanGap = out[out.length - 1].submitS / out.length;
    expect(meanGap * rate).toBeGreaterThan(0.9);
    expect(meanGap * rate).toBeLessThan(1.1);
    const again = [...poissonArrivals(dist, { ratePerS: rate, rng: seeded(3), count: 2000, idPrefix: 'p-' })];
    expect(again).toEqual(out);
    const until = [...poissonArrivals(dist, { ratePerS: 1, rng: seeded(3), untilS: 100 })];
    expect(until.every((j) => j.submitS <= 100)).toBe(true);
    expect(() => poissonArrivals(dist, { ratePerS: 1, rng: seeded(1), idPrefix: 'bad prefix' })).toThrow(RangeError);
  });
});
