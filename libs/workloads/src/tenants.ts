/** Shaping trace jobs for experiments: tenants grouped into queues (docs/policy.md), task counts capped. */

/**
 * Users to queues by volume: heaviest first, each into the queue with the least volume so far
 * (ties to the lower index). Deterministic for a given trace.
 */
export function usersToQueues(volume: ReadonlyMap<string, number>, queues: readonly string[]): Map<string, string> {
  const users = [...volume].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const load = queues.map(() => 0);
  const out = new Map<string, string>();
  for (const [u, v] of users) {
    let best = 0;
    for (let i = 1; i < load.length; i++) if (load[i] < load[best]) best = i;
    load[best] += v;
    out.set(u, queues[best]);
  }
  return out;
}

/** Scales group counts so the job has at most `cap` tasks (every group keeps at least one; groups beyond the cap are dropped). */
export function cappedCounts(counts: readonly number[], cap: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= cap) return [...counts];
  const f = cap / total;
  const out: number[] = [];
  let used = 0;
  for (const c of counts) {
    if (used >= cap) break;
    const n = Math.min(cap - used, Math.max(1, Math.floor(c * f)));
    out.push(n);
    used += n;
  }
  return out;
}
