/**
 * Fairness measures over queues' dominant shares, shared by the simulator's fairness experiment
 * and the benchmark's run on the real services (docs/policy.md).
 */

/** Jain's fairness index of `xs` (1 = all equal; 1/n = one has everything); undefined for no values. */
export function jainIndex(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  return s2 === 0 ? 1 : (s * s) / (xs.length * s2);
}

/**
 * Max-min fair shares of `demands` over a capacity of 1 (water-filling: equal split, capped by
 * demand). A demand of Infinity stands for a queue with a backlog: it takes whatever is left.
 */
export function waterFill(demands: readonly number[]): number[] {
  const out = demands.map(() => 0);
  const order = demands.map((_, i) => i).sort((a, b) => demands[a] - demands[b]);
  let left = 1;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const even = left / (order.length - k);
    out[i] = Math.min(demands[i], even);
    left -= out[i];
  }
  return out;
}

/**
 * Jain's index of share ÷ fair share (capped at 1, so a queue above its fair share is not counted
 * as treated unfairly) over the queues whose fair share is above 0; undefined for fewer than two.
 */
export function fairnessOf(shares: readonly number[], fair: readonly number[]): number | undefined {
  const x: number[] = [];
  for (let i = 0; i < shares.length; i++) if (fair[i] > 1e-9) x.push(Math.min(shares[i] / fair[i], 1));
  return x.length >= 2 ? jainIndex(x) : undefined;
}
