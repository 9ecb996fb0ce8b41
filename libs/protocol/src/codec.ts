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

/** One validation problem, shaped like a zod issue (only what the codec reads). */
export interface ValidationIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}
export type SafeParseResult<T> = { success: true; data: T } | { success: false; error: { issues: readonly ValidationIssue[] } };
/** Anything with a zod-compatible `safeParse`: a zod schema or a hand-written fast validator. */
export interface Validator<T> {
  safeParse(x: unknown): SafeParseResult<T>;
}
/** The validated type of a zod schema or a `Validator<T>`. */
export type Infer<V> = V extends z.ZodTypeAny ? z.output<V> : V extends Validator<infer T> ? T : never;

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out || '(root)';
}

/** Decodes and validates `bytes` against `schema` (a zod schema or a `Validator`). */
export function decodeAs<S extends z.ZodTypeAny | Validator<unknown>>(
  bytes: Uint8Array,
  schema: S,
  maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES,
): Decoded<Infer<S>> {
  if (bytes.length > maxBytes) {
    return errorReply(ErrorCode.too_large, `message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  }
  let raw: unknown;
  try {
    raw = msgpackDecode(bytes);
  } catch (e) {
    return errorReply(ErrorCode.decode_failed, `not valid msgpack: ${(e as Error).message}`);
  }
  const parsed = (schema as Validator<Infer<S>>).safeParse(raw);
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
