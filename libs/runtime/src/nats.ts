/**
 * NATS shell: connection with endless reconnect, typed serving of request subjects (decode →
 * validate → handle → reply, with typed error replies and no crash on bad input), and typed
 * requests that turn error replies into RemoteError.
 */
import { connect } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { decodeAs, decodeRaw, encode, errorReply, ErrorCode, RemoteError, DEFAULT_MAX_MESSAGE_BYTES, type Infer, type Validator } from '@tessera/protocol';
import type { z } from 'zod';
import { connectionOptionsOf, type NatsCredentials } from './credentials.ts';
import type { Logger } from './logger.ts';

export type { Msg, NatsConnection, Subscription };

export async function connectNats(servers: string | string[], name: string, log: Logger, credentials?: NatsCredentials): Promise<NatsConnection> {
  const nc = await connect({
    ...connectionOptionsOf(credentials),
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5_000,
    waitOnFirstConnect: true,
    // Async stack traces cost a RequestError per request on the hot path (seen in profiles).
    noAsyncTraces: true,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') log.warn({ nats: s.type }, 'nats connection status');
    }
  })();
  return nc;
}

export interface ServeOptions {
  /** Queue group: replicas of one service share the subject's load. */
  readonly queue?: string;
  readonly maxBytes?: number;
  readonly log: Logger;
  /** Called with the error code whenever a request is refused (for metrics). */
  readonly onRefused?: (subject: string, code: string) => void;
}

export type Handler<T> = (value: T, msg: Msg) => unknown | Promise<unknown>;

/** Sends `reply` when the message expects one; a no-op for plain publishes. */
export function replyTo(msg: Msg, reply: unknown): void {
  if (msg.reply) msg.respond(encode(reply));
}

/**
 * Serves `subject`: every message is decoded and validated against `schema` (zod or a `Validator`); bad ones get a
 * typed error reply and never reach `handler`. Exceptions in `handler` become `internal` errors.
 * Handlers return the reply object (or undefined for no reply).
 */
export function serve<S extends z.ZodTypeAny | Validator<unknown>>(nc: NatsConnection, subject: string, schema: S, handler: Handler<Infer<S>>, opts: ServeOptions): Subscription {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  return nc.subscribe(subject, {
    queue: opts.queue,
    callback: (err, msg) => {
      if (err) {
        opts.log.error({ err, subject }, 'subscription error');
        return;
      }
      const decoded = decodeAs(msg.data, schema, maxBytes);
      if (!decoded.ok) {
        opts.onRefused?.(subject, decoded.error.code);
        opts.log.warn({ subject, error: decoded.error }, 'refused a message');
        replyTo(msg, decoded);
        return;
      }
      let out: unknown;
      try {
        out = handler(decoded.value, msg);
      } catch (e) {
        fail(msg, subject, e, opts);
        return;
      }
      if (out instanceof Promise) {
        out.then((r) => { if (r !== undefined) replyTo(msg, r); }, (e) => fail(msg, subject, e, opts));
      } else if (out !== undefined) {
        replyTo(msg, out);
      }
    },
  });
}

function fail(msg: Msg, subject: string, e: unknown, opts: ServeOptions): void {
  opts.log.error({ err: e, subject }, 'handler failed');
  opts.onRefused?.(subject, ErrorCode.internal);
  replyTo(msg, errorReply(ErrorCode.internal, (e as Error)?.message ?? String(e)));
}

export interface RequestOptions {
  readonly timeoutMs?: number;
}

/**
 * Decodes a reply: an error reply throws RemoteError (its code and message read defensively, since
 * a reply is untrusted input too); a reply that does not match `replySchema` throws
 * RemoteError(invalid). Shared by every typed request on the bus.
 */
export function decodeReply<S extends z.ZodTypeAny | Validator<unknown>>(subject: string, data: Uint8Array, replySchema: S): Infer<S> {
  let raw: unknown;
  try {
    raw = decodeRaw(data);
  } catch (e) {
    throw new RemoteError({ code: ErrorCode.decode_failed, message: (e as Error).message }, subject);
  }
  if (typeof raw === 'object' && raw !== null && (raw as { ok?: unknown }).ok === false) {
    const err = (raw as { error?: { code?: unknown; message?: unknown; path?: unknown } }).error;
    const code = typeof err?.code === 'string' ? (err.code as ErrorCode) : ErrorCode.internal;
    throw new RemoteError({ code, message: typeof err?.message === 'string' ? err.message : 'error reply', path: typeof err?.path === 'string' ? err.path : undefined }, subject);
  }
  const parsed = (replySchema as Validator<Infer<S>>).safeParse(raw);
  if (!parsed.success) throw new RemoteError({ code: ErrorCode.invalid, message: parsed.error.issues[0].message }, subject);
  return parsed.data;
}

/**
 * Request/reply with a typed answer: an error reply throws RemoteError; a reply that does not
 * match `replySchema` throws RemoteError(invalid). Transport failures (timeout, no responders)
 * throw the NATS client's own errors.
 */
export async function request<S extends z.ZodTypeAny | Validator<unknown>>(nc: NatsConnection, subject: string, payload: unknown, replySchema: S, opts: RequestOptions = {}): Promise<Infer<S>> {
  const msg = await nc.request(subject, encode(payload), { timeout: opts.timeoutMs ?? 5_000 });
  return decodeReply(subject, msg.data, replySchema);
}
