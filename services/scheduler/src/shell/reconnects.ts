/**
 * The NATS connection's reconnects as an abort signal. When the client reconnects (its server
 * died or the TCP connection broke), requests sent before are most likely lost: the request went
 * down with the old connection, or the reply did. Waiting for their timeouts would stall commits
 * and syncs for as long; instead every request races its attempt against `signal`, which aborts
 * on the next reconnect, and is resent at once (see bus.ts `requestSized`).
 */
import { setMaxListeners } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';

/** What requests need from the watch: a signal that aborts on the next reconnect. */
export interface ReconnectSignal {
  readonly signal: AbortSignal;
}

export class ReconnectWatch implements ReconnectSignal {
  private ctl = unlimited(new AbortController());
  private count = 0;
  private readonly iter: AsyncIterable<{ type: string }> & { stop?: () => void };

  constructor(nc: NatsConnection, onReconnect?: (n: number) => void) {
    const iter = nc.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.iter = iter;
    void (async () => {
      for await (const s of iter) {
        if (s.type !== 'reconnect') continue;
        this.count++;
        this.reconnected();
        onReconnect?.(this.count);
      }
    })().catch(() => undefined);
  }

  /** Aborts on the next reconnect; a fresh signal is handed out after each. */
  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  /** Reconnects seen so far. */
  get reconnects(): number {
    return this.count;
  }

  /** Aborts the current signal (what a reconnect does; exposed for tests). */
  reconnected(): void {
    const old = this.ctl;
    this.ctl = unlimited(new AbortController());
    old.abort(new ReconnectedError());
  }

  stop(): void {
    this.iter.stop?.();
  }
}

/** Every request out listens on the signal (hundreds with many jobs reporting outcomes): no leak warning. */
function unlimited(c: AbortController): AbortController {
  setMaxListeners(0, c.signal);
  return c;
}

/** An attempt abandoned because the connection was re-established while it was out. */
export class ReconnectedError extends Error {
  override readonly name = 'ReconnectedError';
  constructor() {
    super('the NATS connection was re-established while the request was out');
  }
}
