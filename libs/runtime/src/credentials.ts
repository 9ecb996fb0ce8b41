/**
 * How a tessera process authenticates to NATS: a credentials file (`--nats-auth FILE`, JSON, 0600)
 * holding the identity's user, password and inbox prefix (its permissions allow only
 * `<inboxPrefix>.>` for replies), and the CA to trust when the server speaks TLS. The same
 * fields `tessera auth show` prints, so any NATS client can be configured from it.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { z } from 'zod';

export const natsCredentials = z.object({
  user: z.string().min(1),
  pass: z.string().min(1),
  /** Replies come to `<inboxPrefix>.…` (nats.js `inboxPrefix`); only admin may use `_INBOX`. */
  inboxPrefix: z.string().regex(/^[^\s.*>][^\s*>]*$/, 'a subject prefix without wildcards').optional(),
  /** PEM file of the CA that signed the server's certificate (TLS). */
  ca: z.string().min(1).optional(),
}).strict();

export type NatsCredentials = z.output<typeof natsCredentials>;

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

export function readCredentialsFile(path: string): NatsCredentials {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CredentialsError(`cannot read NATS credentials ${path}: ${(e as Error).message}`, { cause: e });
  }
  const r = natsCredentials.safeParse(raw);
  if (!r.success) throw new CredentialsError(`${path}: ${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`);
  return r.data;
}

/** The nats.js connection options of some credentials (none: an unauthenticated connection). */
export function connectionOptionsOf(c: NatsCredentials | undefined): Partial<ConnectionOptions> {
  if (c === undefined) return {};
  return {
    user: c.user, pass: c.pass,
    ...(c.inboxPrefix !== undefined ? { inboxPrefix: c.inboxPrefix } : {}),
    ...(c.ca !== undefined ? { tls: { caFile: c.ca } } : {}),
  };
}

/**
 * The `--nats-auth FILE` flag every service takes: a path, read when the service connects
 * (`credentialsOfFlag`), so a config can be checked where the file is not (deploy tests).
 */
export const natsAuthFlag = z.string().min(1).optional();

/** The credentials a `--nats-auth` flag names (none without the flag); CredentialsError when unreadable. */
export function credentialsOfFlag(path: string | undefined): NatsCredentials | undefined {
  return path === undefined ? undefined : readCredentialsFile(path);
}
