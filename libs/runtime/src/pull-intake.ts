/**
 * Pulling a JetStream consumer no faster than the caller can work: a loop of `fetch`es, each
 * asking for as many messages as the caller has room for (in jobs, its unit of work), given how
 * many jobs a message has carried lately (one for a single submission, up to a batch's size).
 *
 * Why not `consume()`: it pulls again as soon as messages *arrive*, whether or not anyone reads
 * them, so a busy reader's buffer grows until the consumer's `max_ack_pending` — the backlog moves
 * from JetStream (durable, visible to every replica) into one process's heap. Here a fetch is only
 * issued when there is room, so under overload the work waits in the stream.
 *
 * The pure part (`messagesToFetch`, `RecentMax`) is exported for tests.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Logger } from './logger.ts';

export interface PullIntakeOptions {
  /** Jobs the caller can take now (≤ 0: wait for `roomChanged`). */
  readonly room: () => number;
  /** Resolves when room may have grown (a job settled). */
  readonly roomChanged: () => Promise<void>;
  /** Takes a message (synchronously); returns how many jobs it carried. */
  readonly take: (m: JsMsg) => number;
  /** Stops the loop (the fetch under way ends at its expiry at the latest). */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Messages per fetch at most (default 1000). */
  readonly maxMessages?: number;
  /** How long one fetch waits for messages (ms, ≥ 1000; default 5000). */
  readonly expiresMs?: number;
}

/**
 * The largest jobs-per-message among the last `size` messages: fetch sizes are cut by it, so a
 * stream of batches is fetched a message or two at a time and a stream of single jobs in bulk.
 */
export class RecentMax {
  private readonly ring: Uint32Array;
  private i = 0;
  private filled = 0;
  constructor(size = 64) {
    this.ring = new Uint32Array(size);
  }
  push(n: number): void {
    this.ring[this.i] = n;
    this.i = (this.i + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
  }
  /** Undefined before any message was seen. */
  get value(): number | undefined {
    if (this.filled === 0) return undefined;
    let m = 0;
    for (let k = 0; k < this.filled; k++) if (this.ring[k] > m) m = this.ring[k];
    return m;
  }
}

/** Messages to ask for: room ÷ jobs a message carries (rounded up), at most `max`; 8 until anything was seen. */
export function messagesToFetch(room: number, jobsPerMessage: number | undefined, max: number): number {
  if (room <= 0) return 0;
  if (jobsPerMessage === undefined) return Math.min(8, max, Math.ceil(room));
  return Math.max(1, Math.min(max, Math.ceil(room / Math.max(1, jobsPerMessage))));
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(done, ms);
  function done() {
    clearTimeout(t);
    signal.removeEventListener('abort', done);
    r();
  }
  signal.addEventListener('abort', done, { once: true });
});

/** Runs until `signal` aborts. A failing fetch (no stream yet, NATS down) is retried after a pause. */
export async function pullIntake(consumer: Consumer, o: PullIntakeOptions): Promise<void> {
  const recent = new RecentMax();
  const max = o.maxMessages ?? 1_000;
  const expires = Math.max(1_000, o.expiresMs ?? 5_000);
  let failures = 0;
  while (!o.signal.aborted) {
    const n = messagesToFetch(o.room(), recent.value, max);
    if (n === 0) {
      await Promise.race([o.roomChanged(), sleep(expires, o.signal)]);
      continue;
    }
    try {
      const batch = await consumer.fetch({ max_messages: n, expires });
      const stop = () => void batch.close().catch(() => undefined);
      o.signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const m of batch) recent.push(o.take(m));
      } finally {
        o.signal.removeEventListener('abort', stop);
      }
      failures = 0;
    } catch (e) {
      if (o.signal.aborted) break;
      failures++;
      if (failures === 1 || failures % 20 === 0) o.log.warn({ err: e, failures }, 'fetching from the jobs consumer failed; retrying');
      await sleep(Math.min(2_000, 100 * 2 ** Math.min(failures, 5)), o.signal);
    }
  }
}
