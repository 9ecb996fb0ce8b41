/**
 * `startCell`: a whole local cell as separate OS processes — nats-server (unless an external
 * `natsUrl` is given), cell-state, K schedulers and sim node agents — each supervised (restarted
 * with backoff when it dies), with a state file for `tessera status` / `tessera down`.
 * Used by `tessera up` / `npm start`, and by the benchmark and chaos commands.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodesListingReply, subjectsFor, type Identity } from '@tessera/protocol';
import { connectNats, createLogger, request, type NatsCredentials } from '@tessera/runtime';
import { readMachines } from '@tessera/workloads';
import { agentIdsOf, identityOfService, prepareCellAuth, type CellAuth } from './auth.ts';
import { writeNatsConfig } from './nats.ts';
import { commonArgs, planCell, type CellPlanOptions } from './plan.ts';
import { freePort, natsServerBinary } from './ports.ts';
import { defaultDataDir, stateFilePath, writeStateFile, type CellRunState, type CellStateFile, type ServiceInfo, type ServiceKind } from './state-file.ts';
import { ServiceStartError, Supervised } from './supervised.ts';

/** The repository root (services are run from source with tsx). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * `node --import <this>` runs TypeScript from source whatever the working directory (a bare
 * `--import tsx` is resolved from the cwd, which fails outside the repository).
 */
export const TSX_IMPORT = import.meta.resolve('tsx');

/** The command line that runs one of the repository's TypeScript entry points. */
export function nodeTsArgs(entry: string, args: readonly string[] = []): string[] {
  return ['--import', TSX_IMPORT, resolve(REPO_ROOT, entry), ...args];
}

/** What to start: the plan's options (nodes, schedulers, partitions, shape, flags…), all optional here, plus how to run it. */
export interface CellOptions extends Partial<CellPlanOptions> {
  /** Default `.tessera/<cell>` under the current directory. */
  readonly dataDir?: string;
  /** Use this NATS instead of starting one. */
  readonly natsUrl?: string;
  /** Node.js flags per service kind, placed before the entry (e.g. `{ scheduler: ['--cpu-prof', '--cpu-prof-dir', dir] }`). */
  readonly nodeArgs?: Partial<Record<ServiceKind, readonly string[]>>;
  /** Restart services that die (default true). */
  readonly restart?: boolean;
  /** Wait until every node is registered before resolving (default true). */
  readonly waitForNodes?: boolean;
  /** Per-service and node-registration readiness timeout (default 90 s). */
  readonly readyTimeoutMs?: number;
  /** Write `<dataDir>/state.json` (default true). */
  readonly stateFile?: boolean;
  /** Delete the data folder first (NATS streams, logs): a cell with no history. */
  readonly fresh?: boolean;
  /** Called while the cell starts, whenever the count of registered nodes changes (`tessera up`'s progress). */
  readonly onNodesRegistered?: (registered: number, expected: number) => void;
  /** Called whenever a service changes state. */
  readonly onEvent?: (e: CellEvent) => void;
  /** Where `services/` lives (default: this repository). */
  readonly repoRoot?: string;
  /** Aborting while the cell starts stops what was started; startCell then rejects. */
  readonly signal?: AbortSignal;
  /**
   * Authenticate every connection (DESIGN §13; default true with the launcher's own NATS): users,
   * permissions and credentials under `<dataDir>/auth/`, each service connecting as its identity.
   */
  readonly auth?: boolean;
  /** Serve NATS over TLS (a CA and certificate made under `<dataDir>/auth/tls/`; implies auth). */
  readonly tls?: boolean;
  /** Tenants that get a submitter identity (default `default`). */
  readonly tenants?: readonly string[];
}

export interface CellEvent {
  readonly service: string;
  readonly state: ServiceInfo['state'];
  readonly pid?: number;
  readonly restarts: number;
}

export interface CellHandle {
  readonly cell: string;
  readonly natsUrl: string;
  readonly dataDir: string;
  /** Undefined when `stateFile: false`. */
  readonly stateFile?: string;
  /** Nodes the agents host in total. */
  readonly nodes: number;
  /** A snapshot of every service (nats first, agents last). */
  readonly services: readonly ServiceInfo[];
  service(name: string): ServiceInfo | undefined;
  /** cell-state's /metrics URL. */
  readonly cellStateMetricsUrl?: string;
  /** The cell's auth (undefined when it runs without). */
  readonly auth?: CellAuth;
  /** Connection credentials of an identity (undefined without auth). */
  credentials(id: Identity): NatsCredentials | undefined;
  /** Stops everything in order (agents, schedulers, cell-state, nats); idempotent. */
  stop(): Promise<void>;
  /** Signals one service as a crash would (default SIGKILL); it is restarted when `restart` is on. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Stops one service and starts it again; resolves when it is ready. */
  restart(name: string): Promise<void>;
  /** Resolves when the cell has stopped (after `stop()`). */
  readonly stopped: Promise<void>;
}

export class CellStartError extends Error {
  override readonly name = 'CellStartError';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function countMachines(path: string): Promise<number> {
  const { machines } = await readMachines(path);
  if (machines.length === 0) throw new CellStartError(`no machines in ${path}`);
  return machines.length;
}

/** Polls cell-state's node listing until `expected` nodes are registered. */
async function waitForNodes(natsUrl: string, cell: string, expected: number, timeoutMs: number, aborted: () => boolean, credentials?: NatsCredentials, progress?: (registered: number) => void): Promise<void> {
  const log = createLogger('launcher', 'silent');
  const nc = await connectNats(natsUrl, 'tessera launcher', log, credentials);
  const s = subjectsFor(cell);
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  try {
    while (Date.now() < deadline && !aborted()) {
      try {
        const r = await request(nc, s.queryNodes, { offset: 0, limit: 1 }, nodesListingReply, { timeoutMs: 5000 });
        if (r.total !== last) progress?.(r.total);
        last = r.total;
        if (r.total >= expected) return;
      } catch { /* cell-state not serving yet */ }
      await sleep(200);
    }
    if (aborted()) return;
    throw new CellStartError(`only ${Math.max(0, last)} of ${expected} nodes registered within ${timeoutMs} ms`);
  } finally {
    await nc.close();
  }
}

export async function startCell(opts: CellOptions = {}): Promise<CellHandle> {
  const cell = opts.cell ?? 'default';
  subjectsFor(cell); // validates the name
  const dataDir = resolve(opts.dataDir ?? defaultDataDir(cell));
  const root = opts.repoRoot ?? REPO_ROOT;
  if (opts.fresh) rmSync(dataDir, { recursive: true, force: true });
  const logDir = join(dataDir, 'logs');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const simNodes = opts.nodes ?? (opts.machines !== undefined ? await countMachines(opts.machines) : 1000);
  const nodes = simNodes + (opts.execAgent === true ? 1 : 0);
  const plan = planCell({ execAgent: opts.execAgent,
    cell, nodes: simNodes, nodesPerAgent: opts.nodesPerAgent ?? 10_000, schedulers: opts.schedulers ?? 3,
    partitions: opts.partitions, mode: opts.mode, machines: opts.machines !== undefined ? resolve(opts.machines) : undefined,
    nodeShape: opts.nodeShape, zones: opts.zones, timeScale: opts.timeScale, heartbeatMs: opts.heartbeatMs,
    resources: opts.resources, logLevel: opts.logLevel, extraArgs: opts.extraArgs,
  });
  const statePath = opts.stateFile === false ? undefined : stateFilePath(dataDir);
  const startedAt = new Date().toISOString();
  let runState: CellRunState = 'starting';
  let nodesRegistered: number | undefined;
  let error: string | undefined;
  const services: Supervised[] = [];
  let natsUrl = opts.natsUrl ?? '';

  const snapshot = (): CellStateFile => ({
    version: 1, cell, state: runState, supervisorPid: process.pid, natsUrl, ownNats: opts.natsUrl === undefined, dataDir, nodes, nodesRegistered,
    ...(cellAuth !== undefined ? { authDir: cellAuth.authDir, tls: cellAuth.tls !== undefined } : {}),
    startedAt, updatedAt: new Date().toISOString(), error, services: services.map((s) => s.info()),
  });
  const persist = () => { if (statePath !== undefined) writeStateFile(statePath, snapshot()); };
  const onChange = (s: Supervised) => {
    persist();
    const i = s.info();
    opts.onEvent?.({ service: i.name, state: i.state, pid: i.pid, restarts: i.restarts });
  };
  // Last resort: never leave children behind when this process exits without stop().
  const exitHook = () => { for (const s of services) s.killNow(); };
  process.on('exit', exitHook);

  const supervisedOpts = { cwd: root, restart: opts.restart ?? true, readyTimeoutMs, onChange };
  const useAuth = opts.tls === true || (opts.auth ?? opts.natsUrl === undefined);
  if (useAuth && opts.natsUrl !== undefined) throw new CellStartError('auth is generated for the launcher\'s own NATS only (an external --nats brings its own)');
  const cellAuth = useAuth
    ? prepareCellAuth({
      subjects: subjectsFor(cell), cellDir: dataDir, tls: opts.tls,
      agents: agentIdsOf(plan), tenants: opts.tenants ?? ['default'],
    })
    : undefined;

  if (opts.natsUrl === undefined) {
    const port = await freePort();
    const monitorPort = await freePort();
    const natsDir = join(dataDir, 'nats');
    const configFile = writeNatsConfig({
      dataDir: natsDir, port, monitorPort, serverName: `tessera-${cell}`, include: cellAuth !== undefined ? relative(natsDir, cellAuth.accountsFile) : undefined,
      tls: cellAuth?.tls,
    });
    natsUrl = `nats://127.0.0.1:${port}`;
    services.push(new Supervised({
      ...supervisedOpts, name: 'nats', kind: 'nats', logFile: join(logDir, 'nats.log'),
      readiness: { kind: 'port', port },
      launch: () => ({ command: natsServerBinary(), args: ['-c', configFile], httpPort: monitorPort, metricsUrl: `http://127.0.0.1:${monitorPort}/varz` }),
    }));
  }
  for (const p of plan) {
    let port = 0;
    services.push(new Supervised({
      ...supervisedOpts, name: p.name, kind: p.kind, logFile: join(logDir, `${p.name}.log`), nodes: p.nodes,
      readiness: { kind: 'listening-line' },
      // Keep the same port across restarts (stable metrics URLs); a fresh one if it was taken.
      launch: async () => {
        if (port === 0 || !(await portFree(port))) port = await freePort();
        return {
          command: process.execPath,
          args: [...(opts.nodeArgs?.[p.kind] ?? []), ...nodeTsArgs(p.entry, [
            ...commonArgs({ natsUrl, cell, httpPort: port, logLevel: opts.logLevel, resources: opts.resources, natsAuth: cellAuth?.credentialsFile(identityOfService(p)) }), ...p.args,
          ])],
          httpPort: port,
          metricsUrl: `http://127.0.0.1:${port}/metrics`,
          healthUrl: `http://127.0.0.1:${port}/healthz`,
        };
      },
    }));
  }

  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => { resolveStopped = r; });
  const byKind = (k: ServiceKind) => services.filter((s) => s.opts.kind === k);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      runState = 'stopping';
      persist();
      for (const kind of ['node-agent', 'scheduler', 'cell-state', 'nats'] as const) {
        await Promise.all(byKind(kind).map((s) => s.stop()));
      }
      runState = error !== undefined ? 'failed' : 'stopped';
      persist();
      process.off('exit', exitHook);
      resolveStopped();
    })();
    return stopping;
  };

  persist();
  // Aborting mid-start (Ctrl-C while the cell comes up) stops what was started and rejects.
  const aborted = () => opts.signal?.aborted === true;
  const onAbort = () => { error ??= 'start aborted'; void stop(); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (aborted()) throw new CellStartError('start aborted');
    for (const s of byKind('nats')) await s.start();
    for (const s of byKind('cell-state')) await s.start();
    await Promise.all([...byKind('scheduler'), ...byKind('node-agent')].map((s) => s.start()));
    if (opts.waitForNodes !== false && nodes > 0) await waitForNodes(natsUrl, cell, nodes, readyTimeoutMs, aborted, cellAuth?.credentials({ role: 'monitor' }), (n) => {
      nodesRegistered = n;
      persist();
      opts.onNodesRegistered?.(n, nodes);
    });
    if (aborted()) throw new CellStartError('start aborted');
  } catch (e) {
    error = aborted() ? 'start aborted' : (e as Error).message;
    await stop();
    throw e instanceof ServiceStartError || e instanceof CellStartError ? (aborted() ? new CellStartError('start aborted') : e) : new CellStartError(error, { cause: e });
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  runState = 'running';
  persist();

  const find = (name: string) => {
    const s = services.find((x) => x.name === name);
    if (s === undefined) throw new RangeError(`no service "${name}" (have: ${services.map((x) => x.name).join(', ')})`);
    return s;
  };
  return {
    cell, natsUrl, dataDir, stateFile: statePath, nodes,
    get services() { return services.map((s) => s.info()); },
    service: (name) => services.find((x) => x.name === name)?.info(),
    get cellStateMetricsUrl() { return services.find((x) => x.opts.kind === 'cell-state')?.info().metricsUrl; },
    auth: cellAuth,
    credentials: (id) => cellAuth?.credentials(id),
    stop,
    kill: async (name, signal) => find(name).kill(signal),
    restart: async (name) => find(name).restart(),
    stopped,
  };
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
