/**
 * Reading a whole JetStream stream in order (the commit log, the jobs stream) with an ordered
 * consumer, for the end-of-run audit. Stops at the stream's last sequence as of the call.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { readStreamRange, type NatsConnection } from '@tessera/runtime';

export class StreamReadError extends Error {
  override readonly name = 'StreamReadError';
}

/** Calls `onMessage` for every stored message in [first, last]; resolves with the last sequence read. */
export async function readWholeStream(
  nc: NatsConnection,
  stream: string,
  onMessage: (seq: number, data: Uint8Array) => void,
  idleTimeoutMs = 60_000,
): Promise<number> {
  // Right after a server of a cluster died, JetStream API calls may time out until the
  // stream's new leader settles: retry for a while.
  const info = await retrying(`reading ${stream}`, 60_000, async () => (await jetstreamManager(nc)).streams.info(stream));
  const last = info.state.last_seq;
  if (info.state.messages === 0) return last;
  // Whole-entry pulls (runtime's readStreamRange): commit-log entries reach megabytes.
  const { last: seen } = await readStreamRange(jetstream(nc), stream, info.state.first_seq, last, onMessage, { idleTimeoutMs, openTimeoutMs: 60_000 });
  if (seen < last) throw new StreamReadError(`reading ${stream}: stopped at ${seen} of ${last}`);
  return last;
}

async function retrying<T>(what: string, timeoutMs: number, f: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (Date.now() >= deadline) throw new StreamReadError(`${what}: ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
