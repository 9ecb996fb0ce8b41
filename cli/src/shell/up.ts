/**
 * `tessera up` (foreground supervisor, or `--detach`: a background supervisor and return when the
 * cell is ready), `tessera down`, `tessera status`.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  nodeTsArgs, isProcessAlive, readStateFile, startCell, stateFilePath, stopFromStateFile, writeStateFile,
  type CellOptions, type CellStateFile, type ServiceInfo,
} from '@tessera/launcher';
import { table } from '../core/tables.ts';
import { CliError } from './errors.ts';
import { stopCellOnSignals } from './foreground-signals.ts';
import { cellDirOf, readLocalState, type GlobalOptions } from './target.ts';
import { consoleUrlFile, openConsole, readConsoleUrl } from './console-command.ts';

/** `registering nodes: n/N` on stderr while the cell starts, at most twice a second (and the last). */
export function registrationProgress(err: (s: string) => void, now: () => number = Date.now): (registered: number, expected: number) => void {
  let lastAt = -Infinity;
  return (registered, expected) => {
    if (registered < expected && now() - lastAt < 500) return;
    lastAt = now();
    err(`tessera: registering nodes: ${registered.toLocaleString('en')}/${expected.toLocaleString('en')}`);
  };
}

/** The console URL the detached supervisor writes once its console serves. */
async function waitForConsoleUrl(cellDir: string, pid: number | undefined, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isProcessAlive(pid)) {
    const url = readConsoleUrl(cellDir);
    if (url !== undefined) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

export interface UpOptions {
  readonly nodes?: number;
  readonly schedulers: number;
  readonly partitions?: number;
  readonly mode?: string;
  readonly machines?: string;
  readonly nats?: string;
  readonly detach: boolean;
  readonly fresh: boolean;
  readonly timeScale?: number;
  readonly zones?: string;
  readonly nodesPerAgent: number;
  readonly heartbeatMs?: number;
  readonly cpuMillis?: number;
  readonly memMib?: number;
  readonly gpu?: number;
  readonly logLevel?: string;
  readonly readyTimeoutS: number;
  /** false: NATS without authentication (`--no-auth`). */
  readonly auth?: boolean;
  readonly tls?: boolean;
  /** Tenants that get a submitter identity (comma separated). */
  readonly tenants?: string;
  /** Also serve the web console (`--console`, `--console-port`). */
  readonly console?: boolean;
  readonly consolePort?: number;
  /** Runs once the cell is ready (`--queues`: apply the queue file), before the console opens. */
  readonly onReady?: () => Promise<void>;
  /** Also an agent with the exec driver on this host (`--exec-agent`). */
  readonly execAgent?: boolean;
}

/** Refuses to start a second cell on the same folder. */
export function assertNotRunning(g: GlobalOptions): void {
  const state = readLocalState(g);
  if (state !== undefined && state.state !== 'stopped' && state.state !== 'failed' && isProcessAlive(state.supervisorPid)) {
    throw new CliError(`cell "${g.cell}" is already running (supervisor pid ${state.supervisorPid}); 'tessera down' first`);
  }
}

export function cellOptionsFrom(g: GlobalOptions, o: UpOptions): CellOptions {
  const shape = o.cpuMillis !== undefined || o.memMib !== undefined || o.gpu !== undefined
    ? { cpu_millis: o.cpuMillis, mem_mib: o.memMib, gpu: o.gpu } : undefined;
  return {
    cell: g.cell, dataDir: cellDirOf(g), natsUrl: o.nats, nodes: o.nodes, schedulers: o.schedulers,
    partitions: o.partitions, mode: o.mode, machines: o.machines, fresh: o.fresh, timeScale: o.timeScale,
    zones: o.zones?.split(',').map((z) => z.trim()).filter((z) => z !== ''), nodesPerAgent: o.nodesPerAgent,
    heartbeatMs: o.heartbeatMs, nodeShape: shape, logLevel: o.logLevel, readyTimeoutMs: o.readyTimeoutS * 1000,
    resources: g.resources.split(','), execAgent: o.execAgent === true,
    auth: o.nats !== undefined ? false : o.auth !== false, tls: o.tls === true,
    tenants: o.tenants?.split(',').map((t) => t.trim()).filter((t) => t !== ''),
  };
}

export function formatServices(services: readonly ServiceInfo[], alive?: (s: ServiceInfo) => boolean): string {
  return table(
    ['NAME', 'KIND', 'PID', 'STATE', 'RESTARTS', 'METRICS'],
    services.map((s) => [s.name, s.kind + (s.nodes !== undefined ? ` (${s.nodes} nodes)` : ''), s.pid, alive && s.pid !== undefined && !alive(s) ? 'dead' : s.state, s.restarts, s.metricsUrl]),
  );
}

function readyBanner(h: { cell: string; natsUrl: string; nodes: number; services: readonly ServiceInfo[] }, ms: number): string {
  return [
    `cell "${h.cell}" is up in ${(ms / 1000).toFixed(1)} s: ${h.nodes} nodes, NATS ${h.natsUrl}`,
    formatServices(h.services),
  ].join('\n');
}

/** Foreground: supervise until SIGINT/SIGTERM, then stop everything in order. */
export async function upForeground(g: GlobalOptions, o: UpOptions, out: (s: string) => void, err: (s: string) => void): Promise<never> {
  assertNotRunning(g);
  const t0 = Date.now();
  let ready = false;
  const ref = stopCellOnSignals(err);
  const starting = ref.starting;
  const handle = ref.handle = await startCell({
    ...cellOptionsFrom(g, o),
    onEvent: (e) => {
      if (!ready) return;
      if (e.state === 'backoff' || e.state === 'failed') err(`tessera: ${e.service} ${e.state === 'failed' ? 'failed for good' : 'died; restarting'} (restarts ${e.restarts})`);
      else if (e.state === 'running') err(`tessera: ${e.service} running again (pid ${e.pid}, restarts ${e.restarts})`);
    },
    onNodesRegistered: registrationProgress(err),
    signal: starting.signal,
  }).catch((e: Error) => {
    throw starting.signal.aborted ? new CliError('interrupted while the cell was starting; stopped what had started', 130) : new CliError(`the cell did not start: ${e.message}`);
  });
  ready = true;
  out(readyBanner(handle, Date.now() - t0));
  // A detached supervisor's parent applies it too (it returns only after): applying is idempotent.
  if (o.onReady !== undefined) await o.onReady();
  if (o.console === true) {
    const c = await openConsole(g, o.consolePort, undefined);
    out(`console: ${c.url}`);
  }
  if (!o.detach) out('supervising; Ctrl-C stops the cell');
  await handle.stopped;
  process.exit(0);
}

/** `--detach`: run `tessera up` as a background supervisor; return once its state file says running. */
export async function upDetached(g: GlobalOptions, argv: readonly string[], o: UpOptions, out: (s: string) => void): Promise<void> {
  assertNotRunning(g);
  const cellDir = cellDirOf(g);
  const statePath = stateFilePath(cellDir);
  const t0 = Date.now();
  if (o.fresh) rmSync(cellDir, { recursive: true, force: true });
  rmSync(consoleUrlFile(cellDir), { force: true });
  const args = argv.filter((a) => a !== '--detach' && a !== '--fresh');
  // The child must find the same folder whatever its cwd: pass it explicitly.
  const childArgs = nodeTsArgs('cli/src/main.ts', [...args, '--data-dir', resolve(g.dataDir)]);
  mkdirSync(cellDir, { recursive: true });
  const logFile = join(cellDir, 'supervisor.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, childArgs, { cwd: process.cwd(), detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });
  const deadline = Date.now() + o.readyTimeoutS * 1000 + 30_000;
  const progress = registrationProgress((s) => process.stderr.write(`${s}\n`));
  let shown = -1;
  const showProgress = (n: number, of: number) => { if (n !== shown) { shown = n; progress(n, of); } };
  while (Date.now() < deadline) {
    let state: CellStateFile | undefined;
    try { state = readStateFile(statePath); } catch { state = undefined; }
    if (state !== undefined && state.supervisorPid === child.pid) {
      if (state.nodesRegistered !== undefined && state.state === 'starting') showProgress(state.nodesRegistered, state.nodes);
      if (state.state === 'running') {
        out(readyBanner(state, Date.now() - t0));
        if (o.onReady !== undefined) await o.onReady();
        if (o.console === true) {
          const url = await waitForConsoleUrl(cellDir, child.pid, 15_000);
          out(url !== undefined ? `console: ${url}` : `console: not started (see ${logFile})`);
        }
        out(`supervisor pid ${child.pid} (log ${logFile}); 'tessera down' stops the cell`);
        return;
      }
      if (state.state === 'failed' || state.state === 'stopped') throw new CliError(`the cell did not start: ${(state.error ?? 'see ' + logFile).split('\n')[0]}`);
    }
    if (exited !== undefined) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => l.startsWith('tessera:')).pop();
      throw new CliError(tail?.replace(/^tessera: /, '') ?? `the supervisor exited with code ${exited} (see ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(`the cell was not ready within ${o.readyTimeoutS} s (see ${logFile})`);
}

export async function down(g: GlobalOptions, purge: boolean, out: (s: string) => void): Promise<void> {
  const state = readLocalState(g);
  if (state === undefined) throw new CliError(`no local cell "${g.cell}" (no ${stateFilePath(cellDirOf(g))})`);
  const alive = isProcessAlive(state.supervisorPid) || state.services.some((s) => isProcessAlive(s.pid));
  if (!alive) {
    out(`cell "${g.cell}" is already stopped`);
  } else {
    const t0 = Date.now();
    const r = await stopFromStateFile(state);
    if (r.survivors.length > 0) throw new CliError(`could not stop: ${r.survivors.join(', ')}`);
    if (!r.supervisorStopped) {
      // The supervisor could not record it: say so in the state file for `status`.
      writeStateFile(stateFilePath(cellDirOf(g)), {
        ...state, state: 'stopped', updatedAt: new Date().toISOString(),
        services: state.services.map((s) => ({ ...s, pid: undefined, state: 'stopped' })),
      });
    }
    const how = r.supervisorStopped ? 'by its supervisor' : `directly (${r.signalled.length} services; the supervisor was gone)`;
    out(`cell "${g.cell}" stopped ${how} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (purge) {
    rmSync(cellDirOf(g), { recursive: true, force: true });
    out(`removed ${cellDirOf(g)}`);
  }
}

export interface StatusJson {
  readonly cell: string;
  readonly state: string;
  readonly supervisorPid: number;
  readonly supervisorAlive: boolean;
  readonly natsUrl: string;
  readonly dataDir: string;
  readonly nodes: number;
  readonly startedAt: string;
  readonly services: (ServiceInfo & { readonly alive: boolean })[];
}

export function statusOf(g: GlobalOptions): StatusJson {
  const state = readLocalState(g);
  if (state === undefined) throw new CliError(`no local cell "${g.cell}" (no ${stateFilePath(cellDirOf(g))}): start one with 'tessera up'`);
  const supervisorAlive = isProcessAlive(state.supervisorPid);
  // A supervisor killed without cleanup leaves "running" behind: report what is actually alive.
  const cellState = !supervisorAlive && (state.state === 'starting' || state.state === 'running' || state.state === 'stopping') ? 'dead' : state.state;
  return {
    cell: state.cell, state: cellState, supervisorPid: state.supervisorPid, supervisorAlive, natsUrl: state.natsUrl,
    dataDir: state.dataDir, nodes: state.nodes, startedAt: state.startedAt,
    services: state.services.map((s) => ({ ...s, alive: isProcessAlive(s.pid) })),
  };
}

export function formatStatus(s: StatusJson): string {
  return [
    `cell "${s.cell}" ${s.state} (supervisor pid ${s.supervisorPid}${s.supervisorAlive ? '' : ', not running'}), ${s.nodes} nodes, NATS ${s.natsUrl}`,
    formatServices(s.services, (x) => (x as ServiceInfo & { alive: boolean }).alive),
  ].join('\n');
}
