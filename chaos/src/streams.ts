/**
 * Reading a whole JetStream stream in order (the commit log, the jobs stream) with an ordered
 * consumer, for the end-of-run audit. Stops at the stream's last sequence as of the call.
 */
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@tessera/runtime';

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
  const { info, consumer } = await retrying(`reading ${stream}`, 60_000, async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    const consumer = info.state.messages === 0
      ? undefined
      : await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: info.state.first_seq });
    return { info, consumer };
  });
  const last = info.state.last_seq;
  if (consumer === undefined) return last;
  // Bounded by bytes too: commit-log entries reach megabytes (thousands of claims), and 1,000 of
  // them asked at once stalled the read of a 10-minute loaded run's log (nats.js takes bytes or a count, not both).
  const messages = await consumer.consume({ max_bytes: 32 * 1024 * 1024 });
  let seen = 0;
  let idle = 0;
  const watchdog = setInterval(() => {
    if (++idle * 1_000 >= idleTimeoutMs) void messages.close();
  }, 1_000);
  try {
    for await (const m of messages) {
      idle = 0;
      if (m.seq > last) break;
      onMessage(m.seq, m.data);
      seen = m.seq;
      if (m.seq >= last) break;
    }
  } finally {
    clearInterval(watchdog);
    await messages.close().catch(() => undefined);
  }
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
