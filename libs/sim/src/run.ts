/** One simulation from options to summary: the workload, the engine, the figures. */
import { DEFAULT_SIM_CONFIG, Simulation, type SimConfig } from './engine.ts';
import { cellViolations, evictionViolations, jobViolations } from './invariants.ts';
import { summarize, type InvariantsSummary, type Summary } from './summary.ts';
import { buildWorkload, type LoadStep } from './workload.ts';

export interface RunOptions extends Partial<SimConfig> {
  readonly workload?: string;
  readonly sizes?: string;
  readonly machines?: string;
  readonly nodes?: number;
  readonly load?: number | readonly LoadStep[];
  /**
   * Production is priority ≥ this (google2011: 9): jobs below are submitted preemptible (batch,
   * DESIGN §11) and the summary splits delays by class (`delay_by_class`).
   */
  readonly productionPriority?: number;
  /** Keep every finished job and add the DESIGN §5/§11 invariant checks to the summary (`invariants`). */
  readonly check?: boolean;
}

/** Splits run options into the workload's and the engine's. */
export function simConfigOf(o: RunOptions): SimConfig {
  const c: Record<string, unknown> = { ...DEFAULT_SIM_CONFIG };
  for (const k of Object.keys(DEFAULT_SIM_CONFIG)) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined) c[k] = v;
  }
  if (o.changeLogLimit !== undefined) c.changeLogLimit = o.changeLogLimit;
  if (o.lfMaxStalenessMs !== undefined) c.lfMaxStalenessMs = o.lfMaxStalenessMs;
  if (o.pipeline !== undefined) c.pipeline = o.pipeline;
  if (o.queues !== undefined) c.queues = o.queues;
  if (o.preemption !== undefined) c.preemption = o.preemption;
  if (o.productionPriority !== undefined) c.productionPriority = o.productionPriority;
  return c as unknown as SimConfig;
}

/**
 * Runs one simulation. `wall_s` is included when `wall` is true; everything else is a pure
 * function of the options (same options → byte-identical JSON).
 */
export async function runSimulation(o: RunOptions, wall = true): Promise<Summary> {
  const config = simConfigOf(o);
  const w = await buildWorkload({
    workload: o.workload, sizes: o.sizes, machines: o.machines, nodes: o.nodes, load: o.load,
    seed: config.seed, maxTaskDurationS: config.maxTaskDurationS, defaultTaskDurationS: config.defaultTaskDurationS,
    ...(o.productionPriority === undefined ? {} : { preemptibleBelow: o.productionPriority }),
  });
  const started = performance.now();
  const sim = new Simulation(config, w.space, w.nodes, w.arrivals, { keepJobs: o.check === true });
  const stats = sim.run();
  const summary = summarize(stats, config, w.space, w.describe);
  if (o.check === true) summary.invariants = invariantsOf(sim);
  if (wall) summary.wall_s = Math.round((performance.now() - started) / 10) / 100;
  return summary;
}

/** The DESIGN §5/§11 checks of a finished run kept with `keepJobs` (first 5 of each kind). */
export function invariantsOf(sim: Simulation): InvariantsSummary {
  const ledger = sim.stats.preemption?.ledger ?? [];
  const kinds = {
    cell: cellViolations(sim.cell),
    jobs: jobViolations(sim.finished ?? [], ledger),
    evictions: evictionViolations(ledger),
    over_commits: sim.stats.preemption?.overCommits ?? [],
  };
  const out = {} as InvariantsSummary;
  for (const [k, v] of Object.entries(kinds)) out[k as keyof InvariantsSummary] = { count: v.length, first: v.slice(0, 5) };
  return out;
}
