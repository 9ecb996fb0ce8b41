/** Typed error replies: every request that cannot be served gets one of these, never silence. */

export const ErrorCode = {
  /** The payload is not valid msgpack. */
  decode_failed: 'decode_failed',
  /** It decoded but does not match the message schema. */
  invalid: 'invalid',
  /** The payload is larger than the subject accepts. */
  too_large: 'too_large',
  /** This cell-state is not the leader (a standby); retry against the leader. */
  not_leader: 'not_leader',
  /** Temporarily unable to serve (e.g. the commit log is unreachable); retrying may help. */
  unavailable: 'unavailable',
  /** The request is valid but refers to something that does not exist. */
  not_found: 'not_found',
  /** An agent spoke for a node it does not own. */
  forbidden: 'forbidden',
  internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorBody {
  readonly code: ErrorCode;
  readonly message: string;
  /** Path of the offending field, when the error is about one. */
  readonly path?: string;
}

export interface ErrorReply {
  readonly ok: false;
  readonly error: ErrorBody;
}

export function errorReply(code: ErrorCode, message: string, path?: string): ErrorReply {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}

/** Thrown by clients when a request came back with an error reply. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  readonly code: ErrorCode;
  readonly path?: string;
  constructor(body: ErrorBody, subject: string) {
    super(`${subject}: ${body.code}: ${body.message}${body.path ? ` (at ${body.path})` : ''}`);
    this.code = body.code;
    this.path = body.path;
  }
}
