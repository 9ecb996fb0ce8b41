/**
 * The local cell's state file (`<dataDir>/state.json`): what `tessera status` and `tessera down`
 * read to find the supervisor, each service's pid and metrics URL, and the NATS URL.
 * Written atomically (temp file + rename) so a reader never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const SERVICE_KINDS = ['nats', 'cell-state', 'scheduler', 'node-agent'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

export const SERVICE_STATES = ['starting', 'running', 'backoff', 'stopping', 'stopped', 'failed'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

export type CellRunState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface ServiceInfo {
  readonly name: string;
  readonly kind: ServiceKind;
  readonly pid?: number;
  readonly state: ServiceState;
  readonly httpPort?: number;
  /** `/metrics` of a tessera service; nats-server's monitoring `/varz`. */
  readonly metricsUrl?: string;
  readonly restarts: number;
  readonly logFile: string;
  /** Nodes hosted (node agents). */
  readonly nodes?: number;
  readonly lastExit?: { readonly code: number | null; readonly signal: string | null; readonly at: string };
}

export interface CellStateFile {
  readonly version: 1;
  readonly cell: string;
  readonly state: CellRunState;
  readonly supervisorPid: number;
  readonly natsUrl: string;
  /** True when the launcher runs its own nats-server (false with an external --nats). */
  readonly ownNats: boolean;
  readonly dataDir: string;
  /** The cell's auth folder (`auth.ts`), when its NATS authenticates; the CLI connects as admin from it. */
  readonly authDir?: string;
  /** NATS speaks TLS (the CA is in the credentials). */
  readonly tls?: boolean;
  readonly nodes: number;
  /** Nodes registered so far while the cell starts (progress). */
  readonly nodesRegistered?: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly error?: string;
  readonly services: readonly ServiceInfo[];
}

export function defaultDataDir(cell: string, base = '.tessera'): string {
  return resolve(base, cell);
}

export function stateFilePath(dataDir: string): string {
  return join(dataDir, 'state.json');
}

export function writeStateFile(path: string, state: CellStateFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

/** Reads a state file; undefined when there is none, StateFileError when it is unreadable. */
export function readStateFile(path: string): CellStateFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFileError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = JSON.parse(text) as CellStateFile;
    if (s.version !== 1 || typeof s.natsUrl !== 'string' || !Array.isArray(s.services)) throw new Error('unexpected content');
    return s;
  } catch (e) {
    throw new StateFileError(`${path} is not a tessera state file: ${(e as Error).message}`, { cause: e });
  }
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function isProcessAlive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
