/** The benchmark's side of the load generator: forks it, configures it, sets rates, reads its totals. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromLoadgen, LoadgenConfig, LoadgenStats, SampledSubmission } from './loadgen-messages.ts';

export class LoadgenError extends Error {
  override readonly name = 'LoadgenError';
}

const ENTRY = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

export class Loadgen {
  private child: ChildProcess;
  private latest: LoadgenStats | undefined;
  private sampledAll: SampledSubmission[] = [];
  private failure: string | undefined;
  readonly ready: Promise<{ jobs: number; meanTasksPerJob: number; source: string; loadMs: number }>;

  private constructor(config: Omit<LoadgenConfig, 't'>) {
    this.child = fork(ENTRY, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (m: FromLoadgen) => {
        if (m.t === 'ready') resolve(m);
        else if (m.t === 'stats') {
          this.latest = m;
          for (const s of m.sampled) this.sampledAll.push(s);
        } else if (m.t === 'error') {
          this.failure = m.message;
          reject(new LoadgenError(m.message));
        }
      });
      this.child.once('exit', (code) => reject(new LoadgenError(`load generator exited (${code}) before it was ready`)));
    });
    this.child.send({ t: 'config', ...config });
  }

  static async start(config: Omit<LoadgenConfig, 't'>): Promise<Loadgen> {
    const g = new Loadgen(config);
    await g.ready;
    return g;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stats(): LoadgenStats | undefined {
    return this.latest;
  }

  get error(): string | undefined {
    return this.failure;
  }

  /** Submissions sampled for the exact-delay cross-check since the last call. */
  takeSampled(): SampledSubmission[] {
    const out = this.sampledAll;
    this.sampledAll = [];
    return out;
  }

  setRate(rate: number): void {
    this.child.send({ t: 'rate', rate });
  }

  /** The same jobs again from the first one, at `rate` (each saturation probe offers the same sequence). */
  restart(rate: number): void {
    this.child.send({ t: 'restart', rate });
  }

  pause(): void {
    this.child.send({ t: 'pause' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ t: 'stop' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
}
