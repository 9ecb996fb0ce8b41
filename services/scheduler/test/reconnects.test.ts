import type { NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { abandonOnAbort, attemptFailure } from '../src/shell/bus.ts';
import { ReconnectedError, ReconnectWatch } from '../src/shell/reconnects.ts';

/** A connection whose status() yields the events pushed by the test. */
function fakeStatus() {
  const queue: { type: string }[] = [];
  let wake: (() => void) | undefined;
  let stopped = false;
  const iter = {
    stop() { stopped = true; wake?.(); },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!;
        if (stopped) return;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
  const nc = { status: () => iter } as unknown as NatsConnection;
  return { nc, push: (type: string) => { queue.push({ type }); wake?.(); } };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('ReconnectWatch', () => {
  it('aborts the current signal on a reconnect (not on a disconnect) and hands out a fresh one', async () => {
    const { nc, push } = fakeStatus();
    const seen: number[] = [];
    const w = new ReconnectWatch(nc, (n) => seen.push(n));
    const first = w.signal;
    push('disconnect');
    await tick();
    expect(first.aborted).toBe(false);
    push('reconnect');
    await tick();
    expect(first.aborted).toBe(true);
    expect(first.reason).toBeInstanceOf(ReconnectedError);
    expect(w.signal.aborted).toBe(false);
    expect(seen).toEqual([1]);
    w.stop();
  });

  it('abandonOnAbort rejects a pending attempt with the reason and ignores its late outcome', async () => {
    const ctl = new AbortController();
    let fail!: (e: Error) => void;
    const never = new Promise<string>((_, reject) => (fail = reject));
    const out = abandonOnAbort(never, ctl.signal);
    ctl.abort(new ReconnectedError());
    await expect(out).rejects.toBeInstanceOf(ReconnectedError);
    fail(new Error('late timeout')); // no unhandled rejection
    await expect(abandonOnAbort(Promise.resolve(1), new AbortController().signal)).resolves.toBe(1);
    const e = new Error('x');
    e.name = 'TimeoutError';
    expect([attemptFailure(new ReconnectedError()), attemptFailure(e), attemptFailure(new Error('no responders'))]).toEqual(['reconnected', 'timeout', 'refused']);
  });
});
