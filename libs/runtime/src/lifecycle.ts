/**
 * An explicit lifecycle for long-running components (starting → running → draining → stopped)
 * that refuses illegal transitions, and graceful shutdown on SIGINT/SIGTERM: run the drain
 * steps in reverse order of registration, then exit with 128+signal.
 */
import type { Logger } from './logger.ts';

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped';
const NEXT: Record<LifecycleState, readonly LifecycleState[]> = {
  starting: ['running', 'draining', 'stopped'],
  running: ['draining', 'stopped'],
  draining: ['stopped'],
  stopped: [],
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
}

export class Lifecycle {
  private current: LifecycleState = 'starting';
  private readonly drains: { name: string; fn: () => Promise<void> | void }[] = [];
  constructor(private readonly log: Logger) {}

  get state(): LifecycleState {
    return this.current;
  }

  to(next: LifecycleState): void {
    if (!NEXT[this.current].includes(next)) throw new IllegalTransitionError(`cannot go from ${this.current} to ${next}`);
    this.log.info({ from: this.current, to: next }, 'lifecycle');
    this.current = next;
  }

  /** Registers a step to run on shutdown (last registered runs first). */
  onDrain(name: string, fn: () => Promise<void> | void): void {
    this.drains.push({ name, fn });
  }

  /** Drains everything once; later calls wait for the same drain. */
  private draining?: Promise<void>;
  shutdown(): Promise<void> {
    if (this.draining) return this.draining;
    this.draining = (async () => {
      if (this.current === 'stopped') return;
      this.to('draining');
      for (const d of [...this.drains].reverse()) {
        try {
          await d.fn();
        } catch (e) {
          this.log.warn({ err: e, step: d.name }, 'drain step failed');
        }
      }
      this.to('stopped');
    })();
    return this.draining;
  }

  /** Installs SIGINT/SIGTERM handlers that drain and exit with 128+signal. */
  exitOnSignals(): void {
    const codes: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };
    for (const sig of Object.keys(codes)) {
      process.once(sig, () => {
        this.log.info({ signal: sig }, 'shutting down');
        const timer = setTimeout(() => process.exit(128 + codes[sig]), 10_000);
        timer.unref();
        void this.shutdown().finally(() => process.exit(128 + codes[sig]));
      });
    }
  }
}
