/**
 * The bus codec: msgpack for every payload, schema validation on every decode. Decoding never
 * throws: it returns the value or a typed error reply, which the caller sends back unchanged.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import type { z } from 'zod';
import { errorReply, ErrorCode, type ErrorReply } from './errors.ts';

/** Default cap on one message (NATS' own default max_payload is 1 MiB; our server allows 8 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * One encoder and one decoder for the process: msgpack's `encode()`/`decode()` functions build a
 * new Encoder (with a fresh 2 KiB buffer) or Decoder per call, which showed up as allocation and
 * GC on the job path. Both classes are re-entrant (a nested call gets a clone), and `encode`
 * returns a copy, so callers may keep the bytes.
 */
const sharedEncoder = new Encoder({ ignoreUndefined: true });
const sharedDecoder = new Decoder();

export function encode(value: unknown): Uint8Array {
  return sharedEncoder.encode(value);
}

/** msgpack decoding with the shared decoder; throws on malformed input (see `decodeAs` for the checked form). */
function msgpackDecode(bytes: Uint8Array): unknown {
  return sharedDecoder.decode(bytes);
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
  const raw = decodeBounded(bytes, maxBytes);
  return raw.ok ? checkAs(raw.value, schema as Validator<Infer<S>>) : raw;
}

/** Decodes `bytes` (at most `maxBytes`) without a schema; the typed error when too large or not msgpack. */
export function decodeBounded(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_MESSAGE_BYTES): Decoded<unknown> {
  if (bytes.length > maxBytes) {
    return errorReply(ErrorCode.too_large, `message of ${bytes.length} bytes exceeds the ${maxBytes}-byte limit`);
  }
  try {
    return { ok: true, value: msgpackDecode(bytes) };
  } catch (e) {
    return errorReply(ErrorCode.decode_failed, `not valid msgpack: ${(e as Error).message}`);
  }
}

/** Validates an already decoded value; the error reply names the first bad field like `decodeAs`. */
export function checkAs<T>(raw: unknown, schema: Validator<T>): Decoded<T> {
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
