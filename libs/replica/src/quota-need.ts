import { addInto, type ResourceSpace, type ResourceVector } from '@tessera/core';

/**
 * What must fit under a queue's max for a quota-parked job to progress: a gang's total, else its
 * smallest pending task (by its largest amount). Shared by the simulator and the scheduler service.
 */
export function quotaNeed(demands: readonly ResourceVector[], gang: boolean, space: ResourceSpace): ResourceVector {
  const out = space.zero();
  if (gang) {
    for (const d of demands) addInto(out, d);
    return out;
  }
  let best = Infinity;
  for (const d of demands) {
    let m = 0;
    for (let k = 0; k < d.length; k++) if (d[k] > m) m = d[k];
    if (m < best) {
      best = m;
      out.set(d);
    }
  }
  return out;
}
