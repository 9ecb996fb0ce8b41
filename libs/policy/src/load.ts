/** Node load as the resource scorers see it. */
import type { ResourceVector } from '@tessera/core';

/**
 * The node's dominant share once `demand` is placed on it: max over resources with capacity of
 * (allocated + reserved + demand) / capacity, clamped to [0, 1]. Equal to core's
 * `dominantShare(capacity, allocated + reserved + demand)`, fused into one loop so scoring a
 * candidate allocates nothing.
 */
export function dominantShareAfter(
  capacity: ResourceVector,
  allocated: ResourceVector,
  reserved: ResourceVector | undefined,
  demand: ResourceVector,
): number {
  let m = 0;
  const n = capacity.length;
  for (let i = 0; i < n; i++) {
    const c = capacity[i];
    if (c > 0) {
      const used = allocated[i] + (reserved === undefined ? 0 : reserved[i]) + demand[i];
      const s = used / c;
      if (s > m) m = s;
    }
  }
  return m > 1 ? 1 : m;
}
