/**
 * Request/reply for the scheduler's subjects (sync, commit, job outcome) that also reports the
 * reply's size in bytes (for `tessera_scheduler_sync_bytes_total`); otherwise the same contract as
 * runtime's `request`: an error reply throws RemoteError, a reply off schema throws
 * RemoteError(invalid), transport failures throw the NATS client's errors. With `signal` (see
 * reconnects.ts), the attempt is abandoned with the signal's reason (ReconnectedError) when it
 * aborts: the request stays out until its own timeout, but nobody waits for it any more.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, ErrorCode, RemoteError } from '@tessera/protocol';
import { decodeReply } from '@tessera/runtime';
import type { z } from 'zod';
import type { AttemptFailure } from '../core/resend.ts';
import { ReconnectedError } from './reconnects.ts';

export interface SizedReply<T> {
  readonly value: T;
  readonly bytes: number;
}

/** A request larger than the server's max_payload: sending it again can never work (split it). */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(readonly bytes: number, readonly limit: number) {
    super(`a ${bytes}-byte request exceeds the server's ${limit}-byte max_payload`);
  }
}

export async function requestSized<S extends z.ZodTypeAny>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  replySchema: S,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<SizedReply<z.output<S>>> {
  const data = encode(payload);
  const limit = nc.info?.max_payload;
  if (limit !== undefined && data.length > limit) throw new PayloadTooLargeError(data.length, limit);
  const msg = await abandonOnAbort(nc.request(subject, data, { timeout: timeoutMs }), signal);
  return { value: decodeReply(subject, msg.data, replySchema), bytes: msg.data.length };
}

/** `p`, or a rejection with `signal.reason` as soon as `signal` aborts (p's own outcome is then ignored). */
export function abandonOnAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/** How an attempt failed, for the resend decision (see core/resend.ts). */
export function attemptFailure(e: unknown): AttemptFailure {
  if (e instanceof ReconnectedError) return 'reconnected';
  if (e instanceof Error && e.name === 'TimeoutError') return 'timeout';
  return 'refused';
}

/** Whether retrying the same request later may succeed (leader change, outage, timeout). */
export function isTransient(e: unknown): boolean {
  if (e instanceof PayloadTooLargeError) return false;
  if (e instanceof RemoteError) return e.code === ErrorCode.unavailable || e.code === ErrorCode.not_leader || e.code === ErrorCode.internal;
  return true; // transport: timeout, no responders, disconnected
}

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
