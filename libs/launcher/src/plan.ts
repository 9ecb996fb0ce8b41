/**
 * What processes a cell consists of, as data: a pure function of the options, so it can be
 * tested without starting anything and reused by the benchmark and chaos commands.
 */
import type { ServiceKind } from './state-file.ts';

export interface NodeShape {
  readonly cpu_millis?: number;
  readonly mem_mib?: number;
  readonly gpu?: number;
}

export interface CellPlanOptions {
  /** Cell name (subjects, streams, the data folder). Default `default`. */
  readonly cell: string;
  /** Virtual nodes in total (default 1000; with `machines`, default every machine of the file). */
  readonly nodes: number;
  /** At most this many nodes per agent process (default 10 000). */
  readonly nodesPerAgent: number;
  readonly schedulers: number;
  readonly partitions?: number;
  readonly mode?: string;
  /** A machine file: nodes come from it instead of `nodeShape`. */
  readonly machines?: string;
  readonly nodeShape?: NodeShape;
  readonly zones?: readonly string[];
  /** Sim task durations are divided by this. */
  readonly timeScale?: number;
  readonly heartbeatMs?: number;
  readonly resources?: readonly string[];
  readonly logLevel?: string;
  /** Extra flags per service kind (e.g. `{ scheduler: ['--sync-ms', '50'] }`). */
  readonly extraArgs?: Partial<Record<ServiceKind, readonly string[]>>;
  /** Also an agent with the exec driver on this host (one node, `exec-000000`, label zone=host, the host's CPUs and memory): real commands run. */
  readonly execAgent?: boolean;
}

export interface PlannedService {
  readonly name: string;
  readonly kind: Exclude<ServiceKind, 'nats'>;
  /** Path of `main.ts` relative to the repository root. */
  readonly entry: string;
  /** Flags besides the common ones (`--nats`, `--cell`, `--http-port`, `--log-level`, `--resources`). */
  readonly args: readonly string[];
  readonly nodes?: number;
}

/**
 * Node liveness: agents heartbeat every `DEFAULT_HEARTBEAT_MS`; cell-state marks a node lost after
 * `DEFAULT_HEARTBEAT_TIMEOUT_MS` of silence. The period must be a small fraction of the timeout (an
 * agent's heartbeat request times out after one period, so one lost heartbeat costs about two
 * periods of silence): 1 s against 10 s leaves room for several lost ones.
 */
export const DEFAULT_HEARTBEAT_MS = 1_000;
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 10_000;

export class CellPlanError extends Error {
  override readonly name = 'CellPlanError';
}

function positiveInt(name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new CellPlanError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/** Splits `nodes` into agents of at most `perAgent` nodes, as evenly as possible. */
export function splitNodes(nodes: number, perAgent: number): { offset: number; count: number }[] {
  if (nodes === 0) return [];
  const agents = Math.ceil(nodes / perAgent);
  const base = Math.floor(nodes / agents);
  const extra = nodes % agents;
  const out: { offset: number; count: number }[] = [];
  let offset = 0;
  for (let i = 0; i < agents; i++) {
    const count = base + (i < extra ? 1 : 0);
    out.push({ offset, count });
    offset += count;
  }
  return out;
}

export function planCell(o: CellPlanOptions): PlannedService[] {
  positiveInt('nodes', o.nodes, 0);
  positiveInt('nodesPerAgent', o.nodesPerAgent);
  positiveInt('schedulers', o.schedulers);
  if (o.partitions !== undefined) positiveInt('partitions', o.partitions);
  if (o.timeScale !== undefined && !(o.timeScale > 0 && Number.isFinite(o.timeScale))) throw new CellPlanError(`timeScale must be a positive number, got ${o.timeScale}`);
  const extra = (k: ServiceKind) => [...(o.extraArgs?.[k] ?? [])];
  const out: PlannedService[] = [];

  // Both ends of node liveness are passed explicitly, so the pair is set in one place (extra
  // flags, placed after, still win).
  const cellArgs: string[] = ['--heartbeat-timeout-ms', String(DEFAULT_HEARTBEAT_TIMEOUT_MS)];
  if (o.partitions !== undefined) cellArgs.push('--partitions', String(o.partitions));
  out.push({ name: 'cell-state', kind: 'cell-state', entry: 'services/cell-state/src/main.ts', args: [...cellArgs, ...extra('cell-state')] });

  for (let i = 0; i < o.schedulers; i++) {
    const args = ['--index', String(i), '--count', String(o.schedulers)];
    if (o.mode !== undefined) args.push('--mode', o.mode);
    out.push({ name: `scheduler-${i}`, kind: 'scheduler', entry: 'services/scheduler/src/main.ts', args: [...args, ...extra('scheduler')] });
  }

  splitNodes(o.nodes, o.nodesPerAgent).forEach(({ offset, count }, i) => {
    const args = ['--id', `agent-${i}`, '--driver', 'sim', '--nodes', String(count), '--node-offset', String(offset)];
    if (o.machines !== undefined) args.push('--machines', o.machines);
    const shape = o.nodeShape ?? {};
    if (shape.cpu_millis !== undefined) args.push('--cpu-millis', String(shape.cpu_millis));
    if (shape.mem_mib !== undefined) args.push('--mem-mib', String(shape.mem_mib));
    if (shape.gpu !== undefined) args.push('--gpu', String(shape.gpu));
    if (o.zones !== undefined && o.zones.length > 0) args.push('--zones', o.zones.join(','));
    if (o.timeScale !== undefined) args.push('--time-scale', String(o.timeScale));
    args.push('--heartbeat-ms', String(o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS));
    out.push({ name: `agent-${i}`, kind: 'node-agent', entry: 'services/node-agent/src/main.ts', args: [...args, ...extra('node-agent')], nodes: count });
  });
  if (o.execAgent === true) {
    const args = ['--id', 'agent-exec', '--driver', 'exec', '--nodes', '1', '--node-prefix', 'exec-', '--zones', 'host', '--heartbeat-ms', String(o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)];
    out.push({ name: 'agent-exec', kind: 'node-agent', entry: 'services/node-agent/src/main.ts', args: [...args, ...extra('node-agent')], nodes: 1 });
  }
  return out;
}

/** The flags every tessera service takes. */
export function commonArgs(o: { natsUrl: string; cell: string; httpPort: number; logLevel?: string; resources?: readonly string[]; natsAuth?: string }): string[] {
  const args = ['--nats', o.natsUrl, '--cell', o.cell, '--http-port', String(o.httpPort)];
  if (o.natsAuth !== undefined) args.push('--nats-auth', o.natsAuth);
  if (o.logLevel !== undefined) args.push('--log-level', o.logLevel);
  if (o.resources !== undefined) args.push('--resources', o.resources.join(','));
  return args;
}
