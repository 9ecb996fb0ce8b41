/**
 * A small parser for the Prometheus text exposition format (what prom-client serves on /metrics;
 * prom-client does not export its own parser), and the arithmetic the benchmark needs on it:
 * sums over label sets, histogram snapshots, differences between two scrapes (a step's window)
 * and `histogram_quantile`-style interpolated quantiles. Pure.
 */

export interface PromSample {
  /** The series name as written (`…_bucket`, `…_sum`, `…_count` for histograms). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export class PromParseError extends Error {
  override readonly name = 'PromParseError';
}

function parseValue(s: string): number {
  switch (s) {
    case '+Inf': case 'Inf': return Infinity;
    case '-Inf': return -Infinity;
    case 'NaN': return Number.NaN;
    default: {
      const v = Number(s);
      if (s === '' || Number.isNaN(v)) throw new PromParseError(`not a sample value: "${s}"`);
      return v;
    }
  }
}

/** Parses `{a="x",b="y\"z"}` starting at `i` (on the `{`); returns the labels and the index after `}`. */
function parseLabels(line: string, i: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // '{'
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++;
    if (line[i] === '}') return [labels, i + 1];
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new PromParseError(`label without '=' in: ${line}`);
    const key = line.slice(i, eq).trim();
    i = eq + 1;
    if (line[i] !== '"') throw new PromParseError(`label value not quoted in: ${line}`);
    i++;
    let v = '';
    while (i < line.length && line[i] !== '"') {
      if (line[i] === '\\') {
        const c = line[i + 1];
        v += c === 'n' ? '\n' : c;
        i += 2;
      } else {
        v += line[i++];
      }
    }
    if (i >= line.length) throw new PromParseError(`unterminated label value in: ${line}`);
    labels[key] = v;
    i++; // closing quote
  }
}

/** Parses an exposition text; comments (`# HELP`, `# TYPE`) and blank lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++;
    const name = line.slice(0, i);
    let labels: Record<string, string> = {};
    if (line[i] === '{') [labels, i] = parseLabels(line, i);
    const rest = line.slice(i).trim().split(/\s+/);
    out.push({ name, labels, value: parseValue(rest[0] ?? '') });
  }
  return out;
}

export type LabelFilter = Readonly<Record<string, string>>;

function matches(labels: Readonly<Record<string, string>>, filter?: LabelFilter): boolean {
  if (filter === undefined) return true;
  for (const [k, v] of Object.entries(filter)) if (labels[k] !== v) return false;
  return true;
}

/** Sum of every series called `name` whose labels include `filter`. 0 when there is none. */
export function sumOf(samples: readonly PromSample[], name: string, filter?: LabelFilter): number {
  let s = 0;
  for (const x of samples) if (x.name === name && matches(x.labels, filter)) s += x.value;
  return s;
}

/** Whether any series called `name` exists (to tell "0" from "not exported"). */
export function has(samples: readonly PromSample[], name: string): boolean {
  return samples.some((x) => x.name === name);
}

/** A cumulative histogram: `counts[i]` observations ≤ `le[i]`; the last `le` is +Inf. */
export interface Histogram {
  readonly le: readonly number[];
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export const EMPTY_HISTOGRAM: Histogram = { le: [Infinity], counts: [0], sum: 0, count: 0 };

/**
 * The histogram `base` (its `_bucket`, `_sum`, `_count` series) summed over every label set
 * matching `filter` (e.g. over all schedulers). Buckets are merged by their `le`.
 */
export function histogramOf(samples: readonly PromSample[], base: string, filter?: LabelFilter): Histogram {
  const byLe = new Map<number, number>();
  let sum = 0, count = 0;
  for (const x of samples) {
    if (!matches(x.labels, filter)) continue;
    if (x.name === `${base}_bucket`) {
      const le = parseValue(x.labels.le ?? '');
      byLe.set(le, (byLe.get(le) ?? 0) + x.value);
    } else if (x.name === `${base}_sum`) sum += x.value;
    else if (x.name === `${base}_count`) count += x.value;
  }
  if (byLe.size === 0) return { ...EMPTY_HISTOGRAM, sum, count };
  if (!byLe.has(Infinity)) byLe.set(Infinity, count);
  const le = [...byLe.keys()].sort((a, b) => a - b);
  return { le, counts: le.map((b) => byLe.get(b)!), sum, count };
}

/** `later − earlier` bucket by bucket: the observations made between two scrapes. */
export function histogramDelta(later: Histogram, earlier: Histogram): Histogram {
  if (earlier.count === 0 && earlier.sum === 0) return later;
  const prev = new Map(earlier.le.map((b, i) => [b, earlier.counts[i]]));
  return {
    le: later.le,
    counts: later.counts.map((c, i) => Math.max(0, c - (prev.get(later.le[i]) ?? 0))),
    sum: later.sum - earlier.sum,
    count: Math.max(0, later.count - earlier.count),
  };
}

/** Adds histograms with the same buckets (e.g. windows or services). */
export function histogramAdd(a: Histogram, b: Histogram): Histogram {
  if (a.count === 0 && a.sum === 0 && a.le.length === 1) return b;
  if (b.count === 0 && b.sum === 0 && b.le.length === 1) return a;
  const byLe = new Map<number, number>();
  for (const h of [a, b]) h.le.forEach((le, i) => byLe.set(le, (byLe.get(le) ?? 0) + h.counts[i]));
  const le = [...byLe.keys()].sort((x, y) => x - y);
  return { le, counts: le.map((x) => byLe.get(x)!), sum: a.sum + b.sum, count: a.count + b.count };
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside the bucket it falls in,
 * as PromQL's `histogram_quantile` does (the first bucket's lower bound is 0; a quantile in the
 * +Inf bucket returns the highest finite bound, i.e. "at least this"). NaN with no observations.
 */
export function histogramQuantile(h: Histogram, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const total = h.counts[h.counts.length - 1] ?? 0;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let i = 0;
  while (i < h.counts.length - 1 && h.counts[i] < rank) i++;
  const upper = h.le[i];
  if (upper === Infinity) return h.le.length >= 2 ? h.le[h.le.length - 2] : Number.NaN;
  const lower = i === 0 ? 0 : h.le[i - 1];
  const below = i === 0 ? 0 : h.counts[i - 1];
  const inBucket = h.counts[i] - below;
  if (inBucket <= 0) return upper;
  return lower + ((upper - lower) * (rank - below)) / inBucket;
}

/** Mean of the observations (exact: from `_sum` / `_count`). */
export function histogramMean(h: Histogram): number {
  return h.count > 0 ? h.sum / h.count : Number.NaN;
}

/** Fraction of observations above `x` (exact only when `x` is a bucket bound). */
export function histogramFractionAbove(h: Histogram, x: number): number {
  const total = h.counts[h.counts.length - 1] ?? 0;
  if (!(total > 0)) return Number.NaN;
  let i = 0;
  while (i < h.le.length && h.le[i] < x) i++;
  const atOrBelow = i < h.le.length ? h.counts[i] : total;
  return (total - atOrBelow) / total;
}
