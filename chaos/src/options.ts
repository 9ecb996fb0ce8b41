/**
 * `npm run chaos -- [flags]`, compiled once into a frozen config (pure; a bad flag is a
 * ChaosUsageError with a one-line message, exit 2).
 */
import { parseArgs } from 'node:util';

export interface ChaosOptions {
  /** Length of the loaded phase with kills, in minutes. */
  readonly minutes: number;
  readonly seed: string;
  readonly json: boolean;
  readonly nodes: number;
  readonly nodesPerAgent: number;
  readonly schedulers: number;
  /** Cell-state instances (default 2: a leader and a standby that takes over when its lease lapses). */
  readonly cellStates: number;
  readonly partitions: number;
  /** Target mean allocation of the bottleneck resource (sets the job rate unless `rate` is given). */
  readonly utilisation: number;
  /** Offered jobs per second (open loop); default: the rate that gives `utilisation`. */
  readonly rate?: number;
  /** Preemption load: filler jobs (preemptible, priority 0) offering this much more of the bottleneck resource (0: none). */
  readonly fillerUtilisation: number;
  readonly maxTasksPerJob: number;
  readonly killGapS: number;
  readonly settleS: number;
  readonly heartbeatMs: number;
  /** Where logs and NATS data go; a temp folder (removed after a clean run) when not given. */
  readonly dataDir?: string;
  readonly keep: boolean;
  readonly logLevel: string;
}

export class ChaosUsageError extends Error {
  override readonly name = 'ChaosUsageError';
}

export const USAGE = `usage: npm run chaos -- [--minutes M] [--seed S] [--json]
  [--nodes N] [--nodes-per-agent N] [--schedulers K] [--cell-states C] [--partitions P]
  [--utilisation U | --rate JOBS_PER_S] [--filler-utilisation F] [--max-tasks N] [--kill-gap-s S] [--settle-s S] [--heartbeat-ms MS]
  [--data-dir DIR] [--keep] [--log-level L]`;

function num(name: string, v: string | undefined, dflt: number, min: number, max: number, int = true): number {
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!Number.isFinite(x) || x < min || x > max || (int && !Number.isInteger(x))) {
    throw new ChaosUsageError(`--${name}: expected ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got "${v}"`);
  }
  return x;
}

export function parseChaosArgs(argv: readonly string[], defaultSeed: string): ChaosOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        minutes: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' },
        nodes: { type: 'string' }, 'nodes-per-agent': { type: 'string' }, schedulers: { type: 'string' },
        'cell-states': { type: 'string' }, partitions: { type: 'string' }, utilisation: { type: 'string' }, rate: { type: 'string' }, 'filler-utilisation': { type: 'string' },
        'max-tasks': { type: 'string' }, 'kill-gap-s': { type: 'string' }, 'settle-s': { type: 'string' },
        'heartbeat-ms': { type: 'string' }, 'data-dir': { type: 'string' }, keep: { type: 'boolean' },
        'log-level': { type: 'string' }, help: { type: 'boolean' },
      },
    }));
  } catch (e) {
    throw new ChaosUsageError((e as Error).message);
  }
  if (values.help === true) throw new ChaosUsageError(USAGE);
  const str = (k: string) => values[k] as string | undefined;
  const nodes = num('nodes', str('nodes'), 16, 1, 100_000);
  const seed = str('seed') ?? defaultSeed;
  if (seed === '' || !/^[A-Za-z0-9_.-]{1,64}$/.test(seed)) throw new ChaosUsageError(`--seed: use 1-64 of A-Z a-z 0-9 _ . -, got "${seed}"`);
  if (str('rate') !== undefined && str('utilisation') !== undefined) throw new ChaosUsageError('--rate and --utilisation: give one of them (--utilisation picks the rate)');
  const rate = str('rate') === undefined ? undefined : num('rate', str('rate'), 0, 0.01, 100_000, false);
  const logLevel = str('log-level') ?? 'info';
  if (!['trace', 'debug', 'info'].includes(logLevel)) throw new ChaosUsageError(`--log-level: trace, debug or info (the driver needs the services' listening line), got "${logLevel}"`);
  return Object.freeze({
    minutes: num('minutes', str('minutes'), 2, 0.5, 24 * 60, false),
    seed,
    json: values.json === true,
    nodes,
    nodesPerAgent: num('nodes-per-agent', str('nodes-per-agent'), Math.max(1, Math.ceil(nodes / 2)), 1, 100_000),
    schedulers: num('schedulers', str('schedulers'), 3, 1, 64),
    cellStates: num('cell-states', str('cell-states'), 2, 1, 5),
    partitions: num('partitions', str('partitions'), 8, 1, 4096),
    utilisation: num('utilisation', str('utilisation'), 0.5, 0.01, 2, false),
    ...(rate !== undefined ? { rate } : {}),
    fillerUtilisation: num('filler-utilisation', str('filler-utilisation'), 0.5, 0, 2, false),
    maxTasksPerJob: num('max-tasks', str('max-tasks'), 40, 1, 100_000),
    killGapS: num('kill-gap-s', str('kill-gap-s'), 20, 1, 3_600, false),
    settleS: num('settle-s', str('settle-s'), 90, 5, 3_600, false),
    heartbeatMs: num('heartbeat-ms', str('heartbeat-ms'), 1_000, 100, 60_000),
    dataDir: str('data-dir'),
    keep: values.keep === true,
    logLevel,
  });
}
