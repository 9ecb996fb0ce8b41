/**
 * FGD's figures from a run (kubernetes-scheduler-simulator `ClusterGpuFragReport` after every pod,
 * merged by `experiments/analysis/merge_alloc_discrete.py` / `merge_frag_ratio_discrete.py`):
 * - after each pod: arrived GPU milli (placed or not), allocated GPU milli, the cluster's
 *   fragmentation (Σ node frag under the workload's typical shapes) and its free GPU milli;
 * - per integer percentage X of arrived demand (arrived ÷ cell GPU milli, rounded half to even
 *   like Python's round): the mean over the pods at X (at X ± 1 when none) of allocation % (each
 *   rounded to 2 decimals) and of fragmentation rate % (frag ÷ free).
 */

export interface GpuRecord {
  readonly arrivedMilli: number;
  readonly allocatedMilli: number;
  readonly fragMilli: number;
  readonly freeMilli: number;
}

export interface GpuCurve {
  /** Integer arrived percentages 0..130 that have data. */
  readonly arrived_pct: number[];
  readonly alloc_pct: number[];
  readonly frag_pct: number[];
}

/** Python's round(x) (half to even). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function discreteCurve(records: readonly GpuRecord[], gpuMilli: number, maxPct = 130): GpuCurve {
  const at = new Map<number, GpuRecord[]>();
  for (const r of records) {
    const x = roundHalfEven((r.arrivedMilli / gpuMilli) * 100);
    let l = at.get(x);
    if (l === undefined) at.set(x, (l = []));
    l.push(r);
  }
  const out: GpuCurve = { arrived_pct: [], alloc_pct: [], frag_pct: [] };
  for (let x = 0; x <= maxPct; x++) {
    let rs = at.get(x);
    if (rs === undefined) rs = [...(at.get(x - 1) ?? []), ...(at.get(x + 1) ?? [])];
    if (rs.length === 0) continue;
    let alloc = 0;
    let frag = 0;
    for (const r of rs) {
      alloc += round2((r.allocatedMilli / gpuMilli) * 100);
      frag += r.freeMilli > 0 ? (100 * r.fragMilli) / r.freeMilli : 0;
    }
    out.arrived_pct.push(x);
    out.alloc_pct.push(round2(alloc / rs.length));
    out.frag_pct.push(round2(frag / rs.length));
  }
  return out;
}

/** The curve's value at arrived percentage X (undefined when the run never got there). */
export function curveAt(curve: GpuCurve, values: readonly number[], x: number): number | undefined {
  const i = curve.arrived_pct.indexOf(x);
  return i < 0 ? undefined : values[i];
}
