/** Grouping a trace's tenants into a few queues (the fairness experiments, docs/policy.md). */

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
