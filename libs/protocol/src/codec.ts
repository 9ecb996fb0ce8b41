/**
 * The bus codec: msgpack for every payload, schema validation on every decode. Decoding never
 * throws: it returns the value or a typed error reply, which the caller sends back unchanged.
 */
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import type { z } from 'zod';
import { errorReply, ErrorCode, type ErrorReply } from './errors.ts';

/** Default cap on one message (NATS' own default max_payload is 1 MiB; our server allows 8 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

export function encode(value: unknown): Uint8Array {
  return msgpackEncode(value, { ignoreUndefined: true });
}

export type Decoded<T> = { ok: true; value: T } | ErrorReply;

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/** Decodes and validates `bytes` against `schema`. */
export function decodeAs<S extends z.ZodTypeAny>(
  bytes: Uint8Array,
  schema: S,
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): Decoded<z.output<S>> {
  if (bytes.length > maxBytes) {
    return errorReply(ErrorCode.too_large, `message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  }
  let raw: unknown;
  try {
    raw = msgpackDecode(bytes);
  } catch (e) {
    return errorReply(ErrorCode.decode_failed, `not valid msgpack: ${(e as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return errorReply(ErrorCode.invalid, issue.message, formatPath(issue.path));
  }
  return { ok: true, value: parsed.data };
}

/** Decodes without a schema, for generic replies that are checked by their own union (`ok`). */
export function decodeRaw(bytes: Uint8Array): unknown {
  return msgpackDecode(bytes);
}
