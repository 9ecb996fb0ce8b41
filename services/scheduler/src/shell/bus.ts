/**
 * Request/reply for the hot subjects (sync, commit) that also reports the reply's size in bytes
 * (for `tessera_scheduler_sync_bytes_total`); otherwise the same contract as runtime's `request`:
 * an error reply throws RemoteError, a reply off schema throws RemoteError(invalid), transport
 * failures throw the NATS client's errors.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeRaw, encode, ErrorCode, RemoteError } from '@tessera/protocol';
import type { z } from 'zod';

export interface SizedReply<T> {
  readonly value: T;
  readonly bytes: number;
}

export async function requestSized<S extends z.ZodTypeAny>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  replySchema: S,
  timeoutMs: number,
): Promise<SizedReply<z.output<S>>> {
  const msg = await nc.request(subject, encode(payload), { timeout: timeoutMs });
  let raw: unknown;
  try {
    raw = decodeRaw(msg.data);
  } catch (e) {
    throw new RemoteError({ code: ErrorCode.decode_failed, message: (e as Error).message }, subject);
  }
  if (typeof raw === 'object' && raw !== null && (raw as { ok?: unknown }).ok === false) {
    const err = (raw as { error?: { code?: unknown; message?: unknown; path?: unknown } }).error;
    const code = typeof err?.code === 'string' ? (err.code as ErrorCode) : ErrorCode.internal;
    throw new RemoteError({ code, message: typeof err?.message === 'string' ? err.message : 'error reply', path: typeof err?.path === 'string' ? err.path : undefined }, subject);
  }
  const parsed = replySchema.safeParse(raw);
  if (!parsed.success) throw new RemoteError({ code: ErrorCode.invalid, message: parsed.error.issues[0].message }, subject);
  return { value: parsed.data, bytes: msg.data.length };
}

/** Whether retrying the same request later may succeed (leader change, outage, timeout). */
export function isTransient(e: unknown): boolean {
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
