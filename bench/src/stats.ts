/**
 * Percentiles and small summaries over raw samples (pure). Histogram-based quantiles, for the
 * services' Prometheus histograms, are in `prom.ts`.
 */

/**
 * The q-quantile (0 ≤ q ≤ 1) of `sorted` (ascending) by linear interpolation between closest
 * ranks (the "R-7" rule numpy and most spreadsheets use). NaN for an empty array.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (n === 1) return sorted[0];
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface Percentiles {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** p50/p90/p99/max/mean of unsorted samples (non-finite samples are dropped). */
export function percentiles(samples: Iterable<number>): Percentiles {
  const xs = Float64Array.from([...samples].filter((x) => Number.isFinite(x))).sort();
  let sum = 0;
  for (const x of xs) sum += x;
  return {
    n: xs.length,
    p50: quantileSorted(xs, 0.5),
    p90: quantileSorted(xs, 0.9),
    p99: quantileSorted(xs, 0.99),
    max: xs.length > 0 ? xs[xs.length - 1] : Number.NaN,
    mean: xs.length > 0 ? sum / xs.length : Number.NaN,
  };
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two distinct x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0, sy = 0;
  for (const [x, y] of points) { sx += x; sy += y; }
  const mx = sx / n, my = sy / n;
  let num = 0, den = 0;
  for (const [x, y] of points) { num += (x - mx) * (y - my); den += (x - mx) ** 2; }
  return den > 0 ? num / den : 0;
}

/** Rounds for reports: 3 significant digits for small values, integers above 1000. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) >= 1000) return Math.round(x);
  return Number(x.toPrecision(digits));
}
