/**
 * Seeded randomness for placement. Pure core never calls Math.random: the caller passes an Rng,
 * usually seeded from the evaluation (job id + attempt), so a decision can be replayed exactly
 * (Nomad seeds its node shuffle from the evaluation id for the same reason).
 */
import { fnv1a } from '@tessera/core';

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n); `n` must be a positive integer. */
  int(n: number): number;
}

/**
 * mulberry32: one 32-bit word of state, a handful of integer ops per draw, passes the usual
 * statistical batteries well enough for sampling and tie-breaking (not for cryptography).
 * A class rather than a closure so the hot path is a monomorphic method call on a plain field.
 */
class Mulberry32 implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n)) throw new RangeError(`Rng.int needs a positive integer, got ${n}`);
    return Math.floor(this.next() * n);
  }
}

/** Final avalanche of murmur3, so nearby seeds (1, 2, 3…) start from unrelated states. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seeded generator. Integer seeds in the 32-bit range are used as they are (after mixing);
 * any other number and every string is hashed (FNV-1a), so `"job-42/1"` is a fine seed.
 */
/**
 * An "rng" that always draws 0: a placement visiting nodes with it starts at the first node and
 * steps by one, so nodes are visited in their listed order and a tie goes to the first listed
 * node (FGD's kube-scheduler fork's reproducible tie rule: the smallest node name).
 */
export const FIRST_LISTED: Rng = Object.freeze({ next: () => 0, int: () => 0 });

export function createRng(seed: number | string): Rng {
  let s: number;
  if (typeof seed === 'number' && Number.isInteger(seed) && Math.abs(seed) <= 0xffffffff) s = seed >>> 0;
  else s = fnv1a(String(seed));
  return new Mulberry32(mix32(s));
}
