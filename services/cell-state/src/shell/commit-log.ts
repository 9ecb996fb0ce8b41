/**
 * The commit log on JetStream: fenced appends (expected last sequence, so a deposed writer cannot
 * append) with a message id for dedup, and in-order reads from a sequence (replay, catch-up).
 */
import { jetstream, JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readStreamRange, withBoundedAttempts } from '@tessera/runtime';

export class AppendError extends Error {
  override readonly name = 'AppendError';
  /** The fence refused the append: the log's last sequence is not the expected one (another writer appended). */
  readonly fenced: boolean;
  constructor(message: string, options?: ErrorOptions & { fenced?: boolean }) {
    super(message, options);
    this.fenced = options?.fenced ?? false;
  }
}

/** JetStream's "wrong last sequence" (the expected-last-sequence header did not match). */
const WRONG_LAST_SEQUENCE = 10071;


export class LogReadError extends Error {
  override readonly name = 'LogReadError';
}

export interface AppendOptions {
  readonly msgID: string;
  /** The stream's last sequence as this writer knows it; the append fails if it moved on. */
  readonly expectLastSeq: number;
  readonly timeoutMs: number;
}

/** What the writer and replay need of the log (an in-memory one in unit tests). */
export interface CommitLogPort {
  lastSequence(): Promise<number>;
  append(bytes: Uint8Array, opts: AppendOptions): Promise<number>;
  read(from: number, to: number, onEntry: (seq: number, data: Uint8Array) => void | Promise<void>): Promise<number>;
}

export class CommitLog implements CommitLogPort {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
    readonly subject: string,
  ) {
    this.js = jetstream(nc);
  }

  /** The sequence of the stream's last message (0 when empty). */
  async lastSequence(): Promise<number> {
    // Read at every promotion, often right after NATS came back: bounded attempts, not JetStream's 5 s.
    const info = await withBoundedAttempts(`stream info ${this.stream}`, () => this.jsm.streams.info(this.stream), 500, 20);
    return info.state.last_seq;
  }

  /** Last sequence and creation time (a re-created stream has another; snapshots check it). */
  async describe(): Promise<{ lastSeq: number; firstSeq: number; created: string }> {
    const info = await this.jsm.streams.info(this.stream);
    return { lastSeq: info.state.last_seq, firstSeq: info.state.first_seq, created: info.created };
  }

  /** Appends one entry; resolves with its sequence once JetStream has stored it. */
  async append(bytes: Uint8Array, opts: AppendOptions): Promise<number> {
    let ack;
    try {
      ack = await this.js.publish(this.subject, bytes, {
        msgID: opts.msgID,
        expect: { lastSequence: opts.expectLastSeq, streamName: this.stream },
        timeout: opts.timeoutMs,
      });
    } catch (e) {
      const fenced = e instanceof JetStreamApiError && e.code === WRONG_LAST_SEQUENCE;
      throw new AppendError(`append to ${this.stream} failed: ${(e as Error).message}`, { cause: e, fenced });
    }
    if (ack.duplicate) throw new AppendError(`append to ${this.stream} was a duplicate of message ${opts.msgID} (seq ${ack.seq})`);
    if (ack.seq !== opts.expectLastSeq + 1) throw new AppendError(`append to ${this.stream} stored at ${ack.seq}, expected ${opts.expectLastSeq + 1}`);
    return ack.seq;
  }

  /**
   * Reads the entries with sequence in [from, to] in order, calling `onEntry` for each (awaited,
   * so a slow consumer throttles the read); runtime's readStreamRange (pulls that always fit a
   * whole entry of megabytes).
   */
  async read(from: number, to: number, onEntry: (seq: number, data: Uint8Array) => void | Promise<void>, idleTimeoutMs = 10_000): Promise<number> {
    if (to < from) return 0;
    const { read, last } = await readStreamRange(this.js, this.stream, from, to, onEntry, { idleTimeoutMs });
    if (last < to) throw new LogReadError(`reading ${this.stream}: stopped at ${last}, expected to reach ${to} (idle for ${idleTimeoutMs} ms)`);
    return read;
  }
}
