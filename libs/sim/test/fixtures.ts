/** Small in-test cells and arrivals (fast, independent of the trace files). */
import { ResourceSpace, validateJobSpec, type JobSpecInput, type NodeRegistration } from '@tessera/core';
import { createRng } from '@tessera/policy';
import { DEFAULT_SIM_CONFIG, Simulation, type SimConfig, type SimJob } from '../src/index.ts';

export const space = ResourceSpace.default;

export function cell(n: number, cpu = 16_000, mem = 65_536): NodeRegistration[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `n${String(i).padStart(4, '0')}`,
    labels: { zone: i % 2 === 0 ? 'a' : 'b' },
    capacity: space.vector({ cpu_millis: cpu, mem_mib: mem }),
  }));
}

export interface JobMix {
  readonly jobs: number;
  /** Mean gap between submissions (s). */
  readonly gapS: number;
  readonly maxTasks?: number;
  readonly gangShare?: number;
  readonly impossibleShare?: number;
  readonly constrainedShare?: number;
  readonly seed?: number;
}

/** Poisson-ish arrivals of varied jobs: gangs, constrained tasks, and some that can never fit. */
export function jobs(mix: JobMix): SimJob[] {
  const rng = createRng(mix.seed ?? 1);
  const out: SimJob[] = [];
  let t = 0;
  for (let j = 0; j < mix.jobs; j++) {
    t += -Math.log(1 - rng.next()) * mix.gapS;
    const groups: JobSpecInput['tasks'] = [];
    const g = 1 + rng.int(2);
    for (let k = 0; k < g; k++) {
      const group: JobSpecInput['tasks'][number] = {
        name: `g${k}`,
        count: 1 + rng.int(mix.maxTasks ?? 20),
        resources: { cpu_millis: 250 * (1 + rng.int(12)), mem_mib: 512 * (1 + rng.int(12)) },
        duration_s: 5 + rng.int(30),
      };
      if (rng.next() < (mix.constrainedShare ?? 0.05)) group.constraints = [{ label: 'zone', op: 'in', values: ['a'] }];
      groups.push(group);
    }
    if (rng.next() < (mix.impossibleShare ?? 0.02)) groups.push({ name: 'huge', count: 1, resources: { cpu_millis: 1_000_000 }, duration_s: 10 });
    const v = validateJobSpec({ id: `job-${j}`, gang: rng.next() < (mix.gangShare ?? 0.1), tasks: groups }, space);
    if (!v.ok) throw new Error(`${v.error.path}: ${v.error.message}`);
    out.push({ submitS: t, job: v.job });
  }
  return out;
}

export function config(over: Partial<SimConfig> = {}): SimConfig {
  return { ...DEFAULT_SIM_CONFIG, ...over };
}

export function simulate(over: Partial<SimConfig>, nodes: NodeRegistration[], arrivals: SimJob[]): Simulation {
  const sim = new Simulation(config(over), space, nodes, arrivals, { keepJobs: true });
  sim.run();
  return sim;
}
