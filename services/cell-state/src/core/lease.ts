/**
 * The leader lease, decided purely (times passed in). The lease is one key in the JetStream KV
 * bucket `leaderBucket`; its value names the holder and the holder's own deadline, and every
 * renewal is a revision-checked update, so the key's revision changes at every renewal.
 *
 * A standby judges the lease by what it observed, measured on its own monotonic clock (as
 * Kubernetes' leader election does): a lease whose revision did not change for a whole lease
 * duration has lapsed, whatever the clocks of the two machines say. The holder's wall-clock
 * deadline is only used to skip that wait at a cold start, when it passed long ago.
 *
 * The leader measures its own validity from when it *sent* its last successful renewal, so it
 * stops serving no later than any standby may take over. Safety never rests on these clocks:
 * every append is fenced on the log's last sequence, and a new leader appends first.
 */

/** The value stored under the leader key (JSON, readable with `nats kv get`). */
export interface LeaseValue {
  /** Writer id of the holder. */
  readonly holder: string;
  /** Increases at every acquisition. */
  readonly term: number;
  /** The holder's deadline on its wall clock (ms): informative, and a cold-start shortcut. */
  readonly expiresAt: number;
  readonly leaseMs: number;
}

export function encodeLease(v: LeaseValue): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

/** The lease value, or undefined for bytes that are not one (treated as held by someone unknown). */
export function decodeLease(bytes: Uint8Array): LeaseValue | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<LeaseValue>;
    if (typeof v.holder !== 'string' || !Number.isInteger(v.term) || !Number.isFinite(v.expiresAt) || !Number.isFinite(v.leaseMs)) return undefined;
    return { holder: v.holder, term: v.term!, expiresAt: v.expiresAt!, leaseMs: v.leaseMs! };
  } catch {
    return undefined;
  }
}

/** The key as read: absent (null), deleted/purged, or a value at a revision. */
export type LeaseKey = { readonly revision: number; readonly deleted: boolean; readonly value: LeaseValue | undefined } | null;

/** What a standby has seen of the key. */
export interface LeaseObservation {
  /** Revision of the key's last operation (0: never written). */
  readonly revision: number;
  readonly deleted: boolean;
  readonly value: LeaseValue | undefined;
  /** Monotonic ms when this revision was first seen. */
  readonly since: number;
}

/** Folds one read of the key into the observation (a new revision restarts the clock). */
export function observeLease(prev: LeaseObservation | undefined, key: LeaseKey, monoNow: number): LeaseObservation {
  const revision = key?.revision ?? 0;
  if (prev !== undefined && prev.revision === revision) return prev;
  return { revision, deleted: key === null || key.deleted, value: key?.deleted ? undefined : key?.value, since: monoNow };
}

/** `free`: nobody holds it; `held`: a holder renews it; `lapsed`: its holder stopped renewing. */
export type LeaseVerdict = 'free' | 'held' | 'lapsed';

export function judgeLease(obs: LeaseObservation, monoNow: number, wallNow: number, leaseMs: number): LeaseVerdict {
  if (obs.deleted) return 'free';
  if (monoNow - obs.since >= leaseMs) return 'lapsed';
  // Cold start: the holder's own deadline passed more than half a lease ago (clock skew allowance).
  if (obs.value !== undefined && wallNow > obs.value.expiresAt + leaseMs / 2) return 'lapsed';
  return 'held';
}

/** The leader's view: valid while less than a lease has passed since its last successful renewal was sent. */
export function leaseValid(renewalSentAt: number | undefined, monoNow: number, leaseMs: number): boolean {
  return renewalSentAt !== undefined && monoNow < renewalSentAt + leaseMs;
}

/** The value a holder writes when acquiring (term + 1) or renewing (same term). */
export function leaseValueFor(holder: string, term: number, wallNow: number, leaseMs: number): LeaseValue {
  return { holder, term, expiresAt: wallNow + leaseMs, leaseMs };
}
