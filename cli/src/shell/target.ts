/**
 * Finding the cell a command talks to: `--nats URL` (with `--cell`), or the state file of the
 * local cell (`<data-dir>/<cell>/state.json`, written by `tessera up`). Connecting fails fast
 * (a CLI must not hang on an unreachable server).
 */
import { resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AuthError, credentialsOf, readAuthFile, readStateFile, stateFilePath, isProcessAlive, StateFileError, type CellStateFile,
} from '@tessera/launcher';
import { subjectsFor, type Subjects } from '@tessera/protocol';
import { connectionOptionsOf, CredentialsError, readCredentialsFile, type NatsCredentials } from '@tessera/runtime';
import { CliError } from './errors.ts';

export interface GlobalOptions {
  readonly nats?: string;
  /** Credentials file for `--nats` (`tessera auth show`'s fields); the local cell's admin ones otherwise. */
  readonly natsAuth?: string;
  readonly cell: string;
  readonly dataDir: string;
  readonly resources: string;
}

export interface CellTarget {
  readonly cell: string;
  readonly natsUrl: string;
  readonly subjects: Subjects;
  /** The local cell's folder (`<data-dir>/<cell>`). */
  readonly cellDir: string;
  /** Present when the cell was found through its state file. */
  readonly state?: CellStateFile;
  /** How the CLI authenticates (the local cell's admin identity, or `--nats-auth`). */
  readonly credentials?: NatsCredentials;
}

export function cellDirOf(g: GlobalOptions): string {
  return resolve(g.dataDir, g.cell);
}

export function readLocalState(g: GlobalOptions): CellStateFile | undefined {
  try {
    return readStateFile(stateFilePath(cellDirOf(g)));
  } catch (e) {
    if (e instanceof StateFileError) throw new CliError(e.message);
    throw e;
  }
}

export function resolveTarget(g: GlobalOptions): CellTarget {
  let subjects: Subjects;
  try {
    subjects = subjectsFor(g.cell);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
  const cellDir = cellDirOf(g);
  const state = readLocalState(g);
  if (g.nats !== undefined) {
    const own = state?.natsUrl === g.nats ? state : undefined;
    return { cell: g.cell, natsUrl: g.nats, subjects, cellDir, state: own, credentials: credentialsFor(g, own) };
  }
  if (state === undefined) {
    throw new CliError(`no local cell "${g.cell}" (no ${stateFilePath(cellDir)}): start one with 'tessera up' or pass --nats URL`);
  }
  if (state.state === 'stopped' || state.state === 'failed' || !isProcessAlive(state.supervisorPid)) {
    throw new CliError(`the local cell "${g.cell}" is not running (state ${state.state}${isProcessAlive(state.supervisorPid) ? '' : ', supervisor gone'}): start it with 'tessera up'`);
  }
  return { cell: g.cell, natsUrl: state.natsUrl, subjects, cellDir, state, credentials: credentialsFor(g, state) };
}

/** `--nats-auth FILE`, else the admin identity of the local cell's auth folder (DESIGN §13), else none. */
function credentialsFor(g: GlobalOptions, state: CellStateFile | undefined): NatsCredentials | undefined {
  try {
    if (g.natsAuth !== undefined) return readCredentialsFile(g.natsAuth);
    if (state?.authDir === undefined) return undefined;
    const auth = readAuthFile(state.authDir);
    if (auth === undefined) throw new CliError(`the local cell's auth folder ${state.authDir} has no users.json`);
    return credentialsOf(auth, { role: 'admin' });
  } catch (e) {
    if (e instanceof CredentialsError || e instanceof AuthError) throw new CliError(e.message, 1, { cause: e });
    throw e;
  }
}

export async function connectTo(target: CellTarget): Promise<NatsConnection> {
  try {
    return await connect({
      ...connectionOptionsOf(target.credentials),
      servers: target.natsUrl.split(','), name: 'tessera cli', timeout: 5000, maxReconnectAttempts: 10, reconnectTimeWait: 250,
    });
  } catch (e) {
    throw new CliError(`cannot reach NATS at ${target.natsUrl}: ${(e as Error).message}`, 1, { cause: e });
  }
}

/** Turns transport errors of a request into a one-line reason naming what did not answer. */
export function explainRequestError(e: unknown, subject: string, who = 'cell-state'): CliError {
  const err = e as Error;
  const name = err?.name ?? '';
  const msg = err?.message ?? String(e);
  if (name === 'NoRespondersError' || /no responders/i.test(msg)) return new CliError(`${who} is not answering on ${subject} (is the cell up?)`);
  if (name === 'TimeoutError' || /timeout/i.test(msg)) return new CliError(`${who} did not answer on ${subject} in time`);
  if (err instanceof CliError) return err;
  return new CliError(msg.split('\n')[0], 1, { cause: e });
}

/** `{ cpu_millis: …, … }` keys of the cell's resource space, from `--resources`. */
export function resourceNames(g: GlobalOptions): string[] {
  return g.resources.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
