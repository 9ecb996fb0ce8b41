/**
 * Starts a tessera service as a real child process (`node --import tsx <entry> …flags`) for
 * integration tests: waits for its `listening` log line, keeps its stderr (JSON log lines), and
 * stops it gracefully (SIGTERM) or crashes it (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (services are started from there, like `npm start` does). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ServiceProcessOptions {
  /** Entry file relative to the repository root, e.g. `services/cell-state/src/main.ts`. */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Extra node flags before the entry (e.g. `--cpu-prof`, `--max-old-space-size=…`). */
  readonly nodeArgs?: readonly string[];
  /** How long to wait for the ready line (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** The `msg` of the log line that means ready (default `listening`). */
  readonly readyMsg?: string;
}

export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [k: string]: unknown;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The ready line (its `metrics` URL, when the service logs one, is in `metricsUrl`). */
  readonly ready: LogLine;
  readonly metricsUrl?: string;
  /** Base URL of the service's HTTP endpoint (`/metrics`, `/healthz`), when known. */
  readonly httpUrl?: string;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** The JSON log lines so far (non-JSON lines skipped). */
  logs(): LogLine[];
  /** Waits for a log line matching `pred` (already seen ones count). */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (default SIGKILL, a crash) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); waits for the exit. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}

function parseLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
}

export async function startServiceProcess(opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', opts.entry, ...(opts.args ?? [])], {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let partial = '';
  const lines: LogLine[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  child.stdout?.resume();
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const l = parseLine(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
      if (l === undefined) continue;
      lines.push(l);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].pred(l)) {
          waiters[i].resolve(l);
          waiters.splice(i, 1);
        }
      }
    }
  });
  const exited = new Promise<ExitStatus>((res) => child.once('exit', (code, signal) => res({ code, signal })));

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const seen = lines.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogLine>((res, rej) => {
      const w = { pred, resolve: (l: LogLine) => { clearTimeout(timer); res(l); } };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(w);
        if (i >= 0) waiters.splice(i, 1);
        rej(new ServiceStartError(`${opts.entry}: no matching log line within ${timeoutMs} ms; stderr tail:\n${stderr.slice(-3000)}`));
      }, timeoutMs);
      waiters.push(w);
      void exited.then((s) => {
        const i = waiters.indexOf(w);
        if (i < 0) return;
        waiters.splice(i, 1);
        clearTimeout(timer);
        rej(new ServiceStartError(`${opts.entry} exited (code ${s.code}, signal ${s.signal}) before the expected log line; stderr tail:\n${stderr.slice(-3000)}`));
      });
    });
  };

  const readyMsg = opts.readyMsg ?? 'listening';
  let ready: LogLine;
  try {
    ready = await waitForLog((l) => l.msg === readyMsg, opts.readyTimeoutMs ?? 30_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const metricsUrl = typeof ready.metrics === 'string' ? ready.metrics : undefined;
  const httpUrl = metricsUrl?.replace(/\/metrics$/, '');

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    child,
    pid: child.pid!,
    ready,
    metricsUrl,
    httpUrl,
    stderr: () => stderr,
    logs: () => [...lines],
    waitForLog,
    exited,
    kill,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const s = await exited;
      clearTimeout(timer);
      return s;
    },
  };
}
