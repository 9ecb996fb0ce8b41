/**
 * Candidate visiting order (Nomad's shuffled node list + limit iterator, without the shuffle's
 * allocation): start at a seeded random index and step by a seeded stride coprime with the
 * length, which visits every index exactly once. Two schedulers with different seeds start in
 * different places, so they do not all pile onto the same node.
 */
import type { Rng } from './rng.ts';

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** A stride in [1, n) coprime with n (1 when n ≤ 2). A few draws at most for any n. */
export function coprimeStride(n: number, rng: Rng): number {
  if (n <= 2) return 1;
  for (let tries = 0; tries < 32; tries++) {
    const s = 1 + rng.int(n - 1);
    if (gcd(s, n) === 1) return s;
  }
  return n - 1; // always coprime with n; only reached with vanishing probability
}
