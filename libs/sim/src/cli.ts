/**
 * `npm run sim -- [flags]`: one simulation, or one per value of a `--sweep`. Prints a short
 * summary per run, or with `--json` the summary object (an array for a sweep). Bad flags: one
 * line on stderr, exit code 2.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { GRANULARITIES, type Granularity } from '@tessera/core';
import { existsSync, readFileSync } from 'node:fs';
import { PLACEMENT_MODES, defaultRegistry, pipelineSpecFromText, type PipelineSpec, type PlacementMode } from '@tessera/policy';
import { QUEUE_ORDERS, type QueueOrder } from '@tessera/replica';
import { DEFAULT_SIM_CONFIG } from './engine.ts';
import { runSimulation, type RunOptions } from './run.ts';
import type { Summary } from './summary.ts';

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
  return n;
};
const num = (name: string, min: number, exclusive = false) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (exclusive && n === min)) throw new InvalidArgumentError(`${name} must be a number ${exclusive ? '>' : '≥'} ${min}`);
  return n;
};
const oneOf = <T extends string>(name: string, values: readonly T[]) => (v: string) => {
  if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${values.join(', ')}`);
  return v as T;
};

/** `--pipeline`: a JSON/YAML pipeline spec, inline or in a file. */
function pipelineArg(v: string): PipelineSpec {
  try {
    return pipelineSpecFromText(existsSync(v) ? readFileSync(v, 'utf8') : v);
  } catch (e) {
    throw new InvalidArgumentError(`pipeline ${(e as Error).message}`);
  }
}

/** Flag name → (parser, option key). The same parsers check `--sweep` values. */
const PARAMS = {
  schedulers: { parse: int('schedulers', 1), key: 'schedulers' },
  partitions: { parse: int('partitions', 1), key: 'partitions' },
  'sync-ms': { parse: num('sync-ms', 0, true), key: 'syncIntervalMs' },
  mode: { parse: oneOf<PlacementMode>('mode', PLACEMENT_MODES), key: 'mode' },
  conflict: { parse: oneOf<Granularity>('conflict', GRANULARITIES), key: 'granularity' },
  seed: { parse: (v: string) => (/^-?\d+$/.test(v) ? Number(v) : v), key: 'seed' },
  load: { parse: num('load', 0, true), key: 'load' },
  nodes: { parse: int('nodes', 1), key: 'nodes' },
  tasks: { parse: int('tasks', 1), key: 'maxTasks' },
  'duration-s': { parse: num('duration-s', 0, true), key: 'arrivalWindowS' },
  'warmup-s': { parse: num('warmup-s', 0), key: 'warmupS' },
  'max-task-s': { parse: num('max-task-s', 0, true), key: 'maxTaskDurationS' },
  scorer: { parse: (v: string) => oneOf<string>('scorer', defaultRegistry.scorerNames)(v), key: 'scorer' },
  pipeline: { parse: pipelineArg, key: 'pipeline' },
  'queue-order': { parse: oneOf<QueueOrder>('queue-order', QUEUE_ORDERS), key: 'queueOrder' },
  'sample-size': { parse: int('sample-size', 1), key: 'sampleSize' },
  't-job-ms': { parse: num('t-job-ms', 0), key: 'jobDecisionMs' },
  't-task-ms': { parse: num('t-task-ms', 0), key: 'taskDecisionMs' },
  'batch-ms': { parse: num('batch-ms', 0), key: 'batchWindowMs' },
  'lf-max-staleness-ms': { parse: num('lf-max-staleness-ms', 0), key: 'lfMaxStalenessMs' },
  'tasks-per-round': { parse: int('tasks-per-round', 1), key: 'maxTasksPerRound' },
  'quality-sample': { parse: int('quality-sample', 0), key: 'qualitySample' },
  'timeline-s': { parse: num('timeline-s', 0), key: 'timelineBucketS' },
  'production-priority': { parse: int('production-priority', 0), key: 'productionPriority' },
} as const;
type Param = keyof typeof PARAMS;

function parseSweep(v: string): { param: Param; values: unknown[] } {
  const m = /^([a-z-]+)=(.+)$/.exec(v);
  if (m === null) throw new InvalidArgumentError('expected PARAM=v1,v2,...');
  const param = m[1] as Param;
  if (!(param in PARAMS)) throw new InvalidArgumentError(`unknown parameter "${m[1]}" (one of ${Object.keys(PARAMS).join(', ')})`);
  const values = m[2].split(',').map((x) => {
    try {
      return PARAMS[param].parse(x.trim());
    } catch (e) {
      throw new InvalidArgumentError(`${(e as Error).message} (value "${x}")`);
    }
  });
  return { param, values };
}

function program(): Command {
  const p = new Command('sim')
    .description('Deterministic discrete-event simulation of a tessera cell (ParSync vs state-sync)')
    .option('--workload <file>', 'trace to replay (google2011, alibaba2017, alibaba_gpu2023 or tessera job files)')
    .option('--sizes <file>', 'trace resampled for synthetic arrivals (default: bundled alibaba2017)')
    .option('--machines <file>', 'machine file for the cell (default: the trace\'s own machines, or a synthetic cell)')
    .addOption(new Option('--nodes <n>', 'synthetic cell of n nodes of the trace\'s machine shape').argParser(PARAMS.nodes.parse))
    .addOption(new Option('--schedulers <n>', 'scheduler replicas N').argParser(PARAMS.schedulers.parse).default(DEFAULT_SIM_CONFIG.schedulers))
    .addOption(new Option('--partitions <p>', 'partitions P').argParser(PARAMS.partitions.parse).default(DEFAULT_SIM_CONFIG.partitions))
    .addOption(new Option('--sync-ms <g>', 'sync interval G: every partition refreshed once per G ms').argParser(PARAMS['sync-ms'].parse).default(DEFAULT_SIM_CONFIG.syncIntervalMs))
    .addOption(new Option('--mode <mode>', 'placement mode').argParser(PARAMS.mode.parse).default(DEFAULT_SIM_CONFIG.mode))
    .addOption(new Option('--conflict <g>', 'conflict detection granularity (fine|coarse)').argParser(PARAMS.conflict.parse).default(DEFAULT_SIM_CONFIG.granularity))
    .addOption(new Option('--seed <s>', 'seed').argParser(PARAMS.seed.parse).default(DEFAULT_SIM_CONFIG.seed))
    .addOption(new Option('--load <u>', 'target load (bottleneck utilisation): Poisson arrivals, or with --workload the trace time-scaled to it').argParser(PARAMS.load.parse))
    .addOption(new Option('--tasks <t>', 'stop admitting jobs after t tasks').argParser(PARAMS.tasks.parse))
    .addOption(new Option('--duration-s <d>', 'stop admitting jobs after d simulated seconds').argParser(PARAMS['duration-s'].parse))
    .addOption(new Option('--warmup-s <w>', 'leave jobs submitted in the first w seconds out of the figures').argParser(PARAMS['warmup-s'].parse))
    .addOption(new Option('--max-task-s <x>', 'cap task run times at x seconds').argParser(PARAMS['max-task-s'].parse))
    .addOption(new Option('--scorer <name>', 'scorer (shorthand for the default pipeline with it)').argParser(PARAMS.scorer.parse))
    .addOption(new Option('--pipeline <spec>', 'placement pipeline, JSON/YAML inline or a file: {filters?, scorers: [{name, weight?, args?}], postFilters?}').argParser(PARAMS.pipeline.parse))
    .addOption(new Option('--queue-order <o>', 'dispatch order of queued jobs (fifo|drf)').argParser(PARAMS['queue-order'].parse))
    .addOption(new Option('--sample-size <k>', 'candidates scored per task').argParser(PARAMS['sample-size'].parse))
    .addOption(new Option('--t-job-ms <ms>', 'decision time per round (t_job)').argParser(PARAMS['t-job-ms'].parse))
    .addOption(new Option('--t-task-ms <ms>', 'decision time per task (t_task)').argParser(PARAMS['t-task-ms'].parse))
    .addOption(new Option('--batch-ms <ms>', 'committer batch window').argParser(PARAMS['batch-ms'].parse))
    .addOption(new Option('--lf-max-staleness-ms <ms>', 'latency-first falls back only to partitions at most this stale (default max(G/4, G/P); Infinity: unbounded)').argParser((v) => (v === 'Infinity' ? Infinity : PARAMS['lf-max-staleness-ms'].parse(v))))
    .addOption(new Option('--tasks-per-round <k>', 'tasks of a job placed per decision round').argParser(PARAMS['tasks-per-round'].parse))
    .addOption(new Option('--quality-sample <k>', 'random nodes compared per placement for quality (0: off)').argParser(PARAMS['quality-sample'].parse))
    .addOption(new Option('--timeline-s <b>', 'add per-bucket figures (by submit time) to the summary').argParser(PARAMS['timeline-s'].parse))
    .addOption(new Option('--production-priority <p>', 'production is priority ≥ p: lower jobs are submitted preemptible, delays split by class (google2011: 9)').argParser(PARAMS['production-priority'].parse))
    .option('--preemption', 'preemption on (DESIGN §11, the policy defaults: gap 10, min run time 30 s, 50/s per replica)')
    .option('--check', 'check the DESIGN §5/§11 invariants at the end (summary `invariants`)')
    .addOption(new Option('--sweep <param=values>', 'one run per value, e.g. schedulers=1,2,4,8').argParser(parseSweep))
    .option('--json', 'print the summary as JSON')
    .option('--no-wall', 'leave wall_s out (output then depends only on the inputs)')
    .helpOption('-h, --help')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) })
    .allowExcessArguments(false);
  return p;
}

function runOptionsOf(opts: Record<string, unknown>): RunOptions {
  const o: Record<string, unknown> = {};
  if (opts.workload !== undefined) o.workload = opts.workload;
  if (opts.sizes !== undefined) o.sizes = opts.sizes;
  if (opts.machines !== undefined) o.machines = opts.machines;
  for (const [flag, { key }] of Object.entries(PARAMS)) {
    const v = opts[camel(flag)];
    if (v !== undefined) o[key] = v;
  }
  if (opts.preemption === true) o.preemption = {};
  if (opts.check === true) o.check = true;
  return o as RunOptions;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function text(s: Summary): string {
  const c = s.config;
  return [
    `mode=${String(c.mode)} N=${String(c.schedulers)} P=${String(c.partitions)} G=${String(c.syncIntervalMs)}ms conflict=${String(c.granularity)} nodes=${String(c.nodes)} load=${JSON.stringify(c.load ?? 'trace')}`,
    `  jobs ${s.jobs}  tasks ${s.tasks}  placements ${s.placements}  unschedulable ${s.unschedulable} (${s.unschedulable_tasks} tasks)`,
    `  conflicts ${s.conflicts}/${s.proposed_claims} = ${(s.conflict_fraction * 100).toFixed(3)}%  retries/placement ${s.retries_per_placement.toFixed(4)}`,
    `  delay p50 ${s.delay_ms.p50.toFixed(1)} ms  p90 ${s.delay_ms.p90.toFixed(1)} ms  p99 ${s.delay_ms.p99.toFixed(1)} ms`,
    `  staleness mean ${s.staleness_ms.mean.toFixed(1)} ms  p99 ${s.staleness_ms.p99.toFixed(1)} ms  quality ${s.quality.toFixed(4)}  utilization ${(s.utilization * 100).toFixed(1)}%`,
    `  simulated ${s.sim_time_s.toFixed(1)} s, ${s.events} events${s.wall_s !== undefined ? `, wall ${s.wall_s.toFixed(2)} s` : ''}`,
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const p = program();
  try {
    p.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help
      process.stderr.write(`sim: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    throw e;
  }
  const opts = p.opts<Record<string, unknown>>();
  const base = runOptionsOf(opts);
  const sweep = opts.sweep as ReturnType<typeof parseSweep> | undefined;
  const wall = opts.wall !== false;
  try {
    if (Array.isArray(base.load) || (base.load !== undefined && typeof base.load !== 'number')) throw new UsageError('bad --load');
    const runs: RunOptions[] = sweep === undefined ? [base] : sweep.values.map((v) => ({ ...base, [PARAMS[sweep.param].key]: v }));
    const out: Summary[] = [];
    for (const r of runs) {
      const s = await runSimulation(r, wall);
      out.push(s);
      if (!opts.json) process.stdout.write(`${text(s)}\n`);
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(sweep === undefined ? out[0] : out, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof RangeError || e instanceof UsageError || (e as { name?: string }).name === 'TraceReadError') {
      process.stderr.write(`sim: ${(e as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    throw e;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`sim: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
      process.exit(1);
    },
  );
}
