/**
 * One supervised child process: started, watched until it is ready (a `listening` log line, or
 * an open TCP port), restarted with exponential backoff when it dies unexpectedly, and stopped
 * with SIGTERM then SIGKILL. Output goes to a log file.
 *
 * Children run in their own process group (`detached`), so a Ctrl-C at the terminal reaches
 * only the supervisor, which then stops the cell in order (agents first, NATS last).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { portOpen } from './ports.ts';
import type { ServiceInfo, ServiceKind, ServiceState } from './state-file.ts';

/**
 * `listening-line`: the service's `{"msg":"listening"}` log line (logged at info level); with a
 * quieter log level the line never comes, so the launch spec's `healthUrl` answering 200 counts too.
 * `port`: a TCP port accepting connections (nats-server).
 */
export type Readiness = { readonly kind: 'listening-line' } | { readonly kind: 'port'; readonly port: number };

export interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The HTTP port the service was told to use (for the state file). */
  readonly httpPort?: number;
  /** Known up front (nats-server's monitoring); a `listening` line's `metrics` field wins. */
  readonly metricsUrl?: string;
  /** Polled for 200 as a second readiness signal (see Readiness). */
  readonly healthUrl?: string;
}

export interface SupervisedOptions {
  readonly name: string;
  readonly kind: ServiceKind;
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly readiness: Readiness;
  /** Called before every (re)start: lets the launcher pick the command line (e.g. a new port). */
  readonly launch: (attempt: number) => Promise<LaunchSpec> | LaunchSpec;
  readonly readyTimeoutMs?: number;
  readonly restart?: boolean;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly resetAfterMs?: number };
  /** Consecutive failed starts after which the service is given up (`failed`). */
  readonly maxConsecutiveFailures?: number;
  readonly stopTimeoutMs?: number;
  readonly nodes?: number;
  readonly onChange?: (s: Supervised) => void;
}

export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function tail(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export class Supervised {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private _state: ServiceState = 'stopped';
  private _restarts = 0;
  private spec?: LaunchSpec;
  private metrics?: string;
  private lastExit?: ServiceInfo['lastExit'];
  private consecutiveFailures = 0;
  private startedAt = 0;
  private backoffMs: number;
  private wantRunning = false;
  private backoffTimer?: NodeJS.Timeout;
  private restartLoop?: Promise<void>;

  constructor(readonly opts: SupervisedOptions) {
    this.backoffMs = opts.backoff?.initialMs ?? 500;
  }

  get name(): string {
    return this.opts.name;
  }

  get state(): ServiceState {
    return this._state;
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  info(): ServiceInfo {
    return {
      name: this.opts.name, kind: this.opts.kind, pid: this.pid, state: this._state,
      httpPort: this.spec?.httpPort, metricsUrl: this.metrics ?? this.spec?.metricsUrl,
      restarts: this._restarts, logFile: this.opts.logFile, nodes: this.opts.nodes, lastExit: this.lastExit,
    };
  }

  private set(state: ServiceState): void {
    if (this._state === state) return;
    this._state = state;
    this.opts.onChange?.(this);
  }

  private logLine(text: string): void {
    try {
      mkdirSync(dirname(this.opts.logFile), { recursive: true });
      const fd = openSync(this.opts.logFile, 'a');
      writeSync(fd, `${JSON.stringify({ time: new Date().toISOString(), supervisor: this.opts.name, msg: text })}\n`);
      closeSync(fd);
    } catch { /* logging is best effort */ }
  }

  /** Starts the process and waits until it is ready; throws ServiceStartError (with the log tail) if not. */
  async start(): Promise<void> {
    this.wantRunning = true;
    await this.spawnOnce();
  }

  private async spawnOnce(): Promise<void> {
    this.set('starting');
    const spec = await this.opts.launch(this._restarts);
    this.spec = spec;
    this.metrics = undefined;
    mkdirSync(dirname(this.opts.logFile), { recursive: true });
    const fd = openSync(this.opts.logFile, 'a');
    const child = spawn(spec.command, [...spec.args], {
      cwd: this.opts.cwd, env: this.opts.env ?? process.env, detached: true,
      stdio: ['ignore', fd, this.opts.readiness.kind === 'listening-line' ? 'pipe' : fd],
    });
    closeSync(fd);
    this.child = child;
    this.startedAt = Date.now();
    let ready = false;
    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      // A command that cannot be run (ENOENT) emits 'error' and no 'exit': without this the start
      // would wait on a promise nothing settles, and the caller's event loop would drain (exit 0, no word).
      child.once('error', (e) => {
        spawnError = e;
        if (child.pid === undefined) resolve();
      });
      child.once('exit', (code, signal) => {
        this.lastExit = { code, signal, at: new Date().toISOString() };
        resolve();
        this.onExit(child, ready);
      });
    });
    this.exited = exited;

    let readyResolve!: () => void;
    const readyLine = new Promise<void>((r) => { readyResolve = r; });
    if (this.opts.readiness.kind === 'listening-line' && child.stderr) {
      // Every stderr line goes to the log file; the first `listening` line marks readiness.
      const logFd = openSync(this.opts.logFile, 'a');
      const rl = createInterface({ input: child.stderr });
      rl.on('line', (line) => {
        try { writeSync(logFd, `${line}\n`); } catch { /* best effort */ }
        if (!ready && line.includes('"listening"')) {
          try {
            const j = JSON.parse(line) as { msg?: string; metrics?: string };
            if (j.msg === 'listening') {
              if (typeof j.metrics === 'string') this.metrics = j.metrics;
              readyResolve();
            }
          } catch { /* not JSON */ }
        }
      });
      rl.once('close', () => { try { closeSync(logFd); } catch { /* closed */ } });
    }
    if (this.opts.readiness.kind === 'listening-line' && spec.healthUrl !== undefined) {
      const url = spec.healthUrl;
      void (async () => {
        while (!ready && child.exitCode === null && child.signalCode === null) {
          await sleep(250);
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
            if (res.status === 200) { readyResolve(); return; }
          } catch { /* not up yet */ }
        }
      })();
    } else if (this.opts.readiness.kind === 'port') {
      const port = this.opts.readiness.port;
      void (async () => {
        while (child.exitCode === null && child.signalCode === null) {
          if (await portOpen(port)) { readyResolve(); return; }
          await sleep(50);
        }
      })();
    }
    const timeoutMs = this.opts.readyTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyLine.then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') {
      ready = true;
      this.consecutiveFailures = 0;
      this.set('running');
      return;
    }
    if (outcome === 'timeout') {
      this.signal(child, 'SIGKILL');
      await exited;
    }
    const why = spawnError !== undefined
      ? `cannot run ${spec.command}: ${spawnError.message}`
      : outcome === 'timeout' ? `not ready within ${timeoutMs} ms` : `exited (code ${this.lastExit?.code}, signal ${this.lastExit?.signal}) before it was ready`;
    throw new ServiceStartError(`${this.opts.name}: ${why}\n${tail(this.opts.logFile)}`.trimEnd());
  }

  private onExit(child: ChildProcess, wasReady: boolean): void {
    if (child !== this.child) return;
    if (!this.wantRunning) {
      this.set('stopped');
      return;
    }
    if (!wasReady) return; // spawnOnce reports the failure to whoever started it
    this.logLine(`exited unexpectedly (code ${this.lastExit?.code}, signal ${this.lastExit?.signal})`);
    if (this.opts.restart === false) {
      this.set('failed');
      return;
    }
    if (Date.now() - this.startedAt > (this.opts.backoff?.resetAfterMs ?? 30_000)) this.backoffMs = this.opts.backoff?.initialMs ?? 500;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.set('backoff');
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.opts.backoff?.maxMs ?? 15_000);
    this.logLine(`restarting in ${wait} ms`);
    this.restartLoop = new Promise<void>((resolve) => {
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = undefined;
        if (!this.wantRunning) { resolve(); return; }
        this._restarts++;
        this.spawnOnce().then(
          () => { this.logLine('restarted'); resolve(); },
          (e: Error) => {
            this.logLine(`restart failed: ${e.message.split('\n')[0]}`);
            this.consecutiveFailures++;
            if (!this.wantRunning) { this.set('stopped'); resolve(); return; }
            if (this.consecutiveFailures >= (this.opts.maxConsecutiveFailures ?? 10)) {
              this.logLine(`giving up after ${this.consecutiveFailures} failed restarts`);
              this.set('failed');
            } else {
              this.scheduleRestart();
            }
            resolve();
          },
        );
      }, wait);
    });
  }

  private signal(child: ChildProcess, sig: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try { child.kill(sig); } catch { /* gone */ }
    }
  }

  /** Stops for good: SIGTERM, then SIGKILL after the stop timeout. No restart. */
  async stop(timeoutMs = this.opts.stopTimeoutMs ?? 10_000): Promise<void> {
    this.wantRunning = false;
    if (this.backoffTimer) { clearTimeout(this.backoffTimer); this.backoffTimer = undefined; }
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.set('stopped');
      return;
    }
    this.set('stopping');
    this.signal(child, 'SIGTERM');
    const killer = setTimeout(() => this.signal(child, 'SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(killer);
    this.set('stopped');
  }

  /** Sends a signal as a crash would (default SIGKILL); the restart policy then applies. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.signal(child, signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') await this.exited;
  }

  /** Stops the process and starts it again (resolves when it is ready). */
  async restart(): Promise<void> {
    await this.stop();
    this.wantRunning = true;
    this._restarts++;
    await this.spawnOnce();
  }

  /** Waits until a pending automatic restart has run. */
  async settled(): Promise<void> {
    await this.restartLoop;
  }

  /** Synchronous last resort (process exit hook): SIGKILL the process group. */
  killNow(): void {
    this.wantRunning = false;
    if (this.child) this.signal(this.child, 'SIGKILL');
  }
}
