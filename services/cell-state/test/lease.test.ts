/** The pure lease decisions: what a standby concludes from what it observed, and the leader's own validity. */
import { describe, expect, it } from 'vitest';
import { decodeLease, encodeLease, judgeLease, leaseValid, leaseValueFor, observeLease, type LeaseKey } from '../src/core/lease.ts';

const LEASE = 1_000;
const held = (revision: number, expiresAt = 10_000): LeaseKey => ({ revision, deleted: false, value: leaseValueFor('cs-a', 3, expiresAt - LEASE, LEASE) });

describe('lease', () => {
  it('round-trips its value and refuses anything else', () => {
    const v = leaseValueFor('cs-a.1234', 7, 5_000, 1_500);
    expect(v).toEqual({ holder: 'cs-a.1234', term: 7, expiresAt: 6_500, leaseMs: 1_500 });
    expect(decodeLease(encodeLease(v))).toEqual(v);
    expect(decodeLease(new TextEncoder().encode('{"holder":1}'))).toBeUndefined();
    expect(decodeLease(new Uint8Array([0xff]))).toBeUndefined();
  });

  it('restarts the observation clock only when the revision changes', () => {
    const a = observeLease(undefined, held(5), 100);
    expect(a).toMatchObject({ revision: 5, deleted: false, since: 100 });
    expect(observeLease(a, held(5), 900)).toBe(a);
    expect(observeLease(a, held(6), 900)).toMatchObject({ revision: 6, since: 900 });
    expect(observeLease(a, null, 900)).toMatchObject({ revision: 0, deleted: true, value: undefined });
    expect(observeLease(a, { revision: 8, deleted: true, value: undefined }, 900)).toMatchObject({ revision: 8, deleted: true });
  });

  it.each([
    ['absent', null, 0, 0, 'free'],
    ['deleted (handed over)', { revision: 4, deleted: true, value: undefined }, 0, 0, 'free'],
    ['renewed recently', held(5), 500, 9_000, 'held'],
    ['not renewed for a whole lease', held(5), LEASE, 9_000, 'lapsed'],
    ['past its deadline + half a lease (cold start)', held(5, 10_000), 0, 10_000 + LEASE / 2 + 1, 'lapsed'],
    ['just past its deadline (clock skew allowance)', held(5, 10_000), 0, 10_000 + LEASE / 2, 'held'],
    ['an unreadable value, recently changed', { revision: 5, deleted: false, value: undefined }, 10, 99_999, 'held'],
  ] as const)('judges a lease %s', (_name, key, elapsed, wall, verdict) => {
    const obs = observeLease(undefined, key, 0);
    expect(judgeLease(obs, elapsed, wall, LEASE)).toBe(verdict);
  });

  it('a leader is valid for one lease from the send time of its last successful renewal', () => {
    expect(leaseValid(undefined, 0, LEASE)).toBe(false);
    expect(leaseValid(100, 100 + LEASE - 1, LEASE)).toBe(true);
    expect(leaseValid(100, 100 + LEASE, LEASE)).toBe(false);
  });
});
