/**
 * `npm run experiments -- --only fgd`: the FGD experiment (docs/fgd.md). FGD's protocol on the
 * openb trace (see ../fgd/openb.ts) for fgd, bestfit, packing, dotprod and random, 10 seeds each,
 * one scheduler; then FGD with its mix learned from recent arrivals instead of the trace's. Writes
 * docs/results/fgd.json and the plots docs/plots/fgd-*.svg; the reference figures are FGD's own
 * (kubernetes-scheduler-simulator experiments/analysis/expected_results, median of its 10 seeds).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart, lineChart, writeSvg, type Series } from '@tessera/plots';
import type { FgdParallelOptions, FgdParallelResult } from '../fgd/parallel.ts';
import { runFgdAll } from '../fgd/pool.ts';
import { GPU_POLICIES, type FgdRunOptions, type FgdRunResult, type GpuPolicy } from '../fgd/run.ts';

const DOCS = fileURLToPath(new URL('../../../../docs/', import.meta.url));
/** FGD's own seeds: their arrival orders are replayed exactly (../fgd/go-draws.ts). */
export const FGD_SEEDS = Array.from({ length: 10 }, (_, i) => i + 42);

/** FGD's repository, openb_pod_list_default, tune 1.3, median over seeds 42..51. */
export const FGD_REFERENCE: Readonly<Record<GpuPolicy, { alloc_pct_at_100: number; alloc_pct_at_130: number; frag_rate_at_90: number }>> = Object.freeze({
  fgd: { alloc_pct_at_100: 95.23, alloc_pct_at_130: 95.4, frag_rate_at_90: 49.87 },
  bestfit: { alloc_pct_at_100: 92.91, alloc_pct_at_130: 93.11, frag_rate_at_90: 73.62 },
  packing: { alloc_pct_at_100: 91.81, alloc_pct_at_130: 92.06, frag_rate_at_90: 83.42 },
  dotprod: { alloc_pct_at_100: 90.56, alloc_pct_at_130: 90.8, frag_rate_at_90: 94.44 },
  random: { alloc_pct_at_100: 86.25, alloc_pct_at_130: 87.39, frag_rate_at_90: 96.73 },
});

/** FGD's repository, allocation % at 100 % arrived per seed 42..51 (analysis_allo_discrete.csv). */
export const FGD_REFERENCE_BY_SEED: Readonly<Record<GpuPolicy, readonly number[]>> = Object.freeze({
  fgd: [95.14, 95.06, 95.29, 95.38, 95.35, 95.14, 95.18, 95.3, 95.15, 95.28],
  bestfit: [92.94, 92.97, 92.89, 92.93, 93.0, 92.84, 92.68, 93.04, 92.64, 92.69],
  packing: [91.37, 91.78, 91.91, 92.58, 91.12, 91.07, 92.51, 91.83, 91.46, 92.16],
  dotprod: [90.34, 90.56, 90.83, 90.69, 90.55, 90.52, 91.0, 90.68, 90.53, 90.52],
  random: [86.17, 86.79, 86.68, 86.33, 86.33, 86.13, 86.73, 85.93, 86.07, 85.87],
});

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

type Figure = 'alloc_pct_at_100' | 'alloc_pct_at_130' | 'frag_rate_at_90';
const FIGURES: readonly Figure[] = ['alloc_pct_at_100', 'alloc_pct_at_130', 'frag_rate_at_90'];

export function medians(rs: readonly FgdRunResult[]): Record<Figure, number> {
  const out = {} as Record<Figure, number>;
  for (const f of FIGURES) out[f] = r2(median(rs.map((r) => r[f] ?? Number.NaN)));
  return out;
}

/** Median over seeds of a curve, per arrived percentage present in every run. */
function medianCurve(rs: readonly FgdRunResult[], key: 'alloc_pct' | 'frag_pct'): Series['points'] {
  const xs = rs[0].curve.arrived_pct.filter((x) => rs.every((r) => r.curve.arrived_pct.includes(x)));
  return xs.map((x) => [x, r2(median(rs.map((r) => r.curve[key][r.curve.arrived_pct.indexOf(x)])))] as const);
}

export async function experimentFgd(ctx: { workers: number; log: (l: string) => void }): Promise<void> {
  ctx.log('(fgd) FGD on openb: 5 policies x 10 seeds, one scheduler; FGD with a learned mix');
  const runs: FgdRunOptions[] = [];
  for (const policy of GPU_POLICIES) for (const seed of FGD_SEEDS) runs.push({ policy, seed });
  for (const seed of FGD_SEEDS) runs.push({ policy: 'fgd', seed, mix: 'learned' });
  const label = (o: FgdRunOptions) => `${o.policy}${o.mix === 'learned' ? ' (learned mix)' : ''} seed ${o.seed}`;
  const res = await runFgdAll(runs, ctx.workers, ctx.log, label);
  const byPolicy = (p: GpuPolicy) => res.filter((r, i) => runs[i].policy === p && runs[i].mix !== 'learned');
  const learned = res.filter((_, i) => runs[i].mix === 'learned');
  const table = GPU_POLICIES.map((p) => ({ policy: p, tessera: medians(byPolicy(p)), fgd_repository: FGD_REFERENCE[p], seeds: byPolicy(p).map((r) => ({ seed: r.seed, alloc_pct_at_100: r.alloc_pct_at_100, fgd_repository_alloc_pct_at_100: FGD_REFERENCE_BY_SEED[p][FGD_SEEDS.indexOf(r.seed)] ?? null, alloc_pct_at_130: r.alloc_pct_at_130, frag_rate_at_90: r.frag_rate_at_90, placed: r.placed, failed: r.failed })) }));
  const learnedRow = { policy: 'fgd (mix learned from the last 2,000 arrivals)', tessera: medians(learned), seeds: learned.map((r) => ({ seed: r.seed, alloc_pct_at_100: r.alloc_pct_at_100, alloc_pct_at_130: r.alloc_pct_at_130, frag_rate_at_90: r.frag_rate_at_90 })) };
  for (const t of table) ctx.log(`  ${t.policy.padEnd(8)} alloc@100 ${t.tessera.alloc_pct_at_100} (FGD repo ${t.fgd_repository.alloc_pct_at_100}), @130 ${t.tessera.alloc_pct_at_130} (${t.fgd_repository.alloc_pct_at_130}), frag@90 ${t.tessera.frag_rate_at_90} (${t.fgd_repository.frag_rate_at_90})`);
  ctx.log(`  fgd learned mix: ${JSON.stringify(learnedRow.tessera)}`);
  const curves = Object.fromEntries(GPU_POLICIES.map((p) => [p, { alloc_pct: medianCurve(byPolicy(p), 'alloc_pct'), frag_pct: medianCurve(byPolicy(p), 'frag_pct') }]));
  await mkdir(join(DOCS, 'results'), { recursive: true });
  await writeFile(join(DOCS, 'results', 'fgd.json'), `${JSON.stringify({ protocol: 'openb GPU nodes (1,213), openb_pod_list_default shuffled per seed and tuned up to 130% of GPU capacity, one pod at a time, never leaving; one scheduler; ties to the smallest node name after FGD\'s random name prefixes; seeds 42..51 with FGD\'s own Go math/rand draws (workloads/fgd-go-rand.openb.json.gz)', seeds: FGD_SEEDS, table, learned: learnedRow, median_curves: curves }, null, 2)}\n`, 'utf8');
  const sub = 'openb, 1,213 GPU nodes, 6,212 GPUs; median of 10 seeds';
  await writeSvg(join(DOCS, 'plots', 'fgd-alloc.svg'), await lineChart({
    title: 'GPU allocation vs arrived GPU demand', subtitle: sub, xLabel: 'arrived GPU demand (% of cluster GPUs)', yLabel: 'allocated GPU milli (% of total)',
    series: GPU_POLICIES.map((p) => ({ name: p, points: curves[p].alloc_pct.filter(([x]) => x >= 70) })),
  }));
  await writeSvg(join(DOCS, 'plots', 'fgd-frag.svg'), await lineChart({
    title: 'Fragmentation rate vs arrived GPU demand', subtitle: `${sub}; fragment ÷ free GPU milli under the trace's typical task shapes`, xLabel: 'arrived GPU demand (% of cluster GPUs)', yLabel: 'fragmentation rate (%)',
    series: GPU_POLICIES.map((p) => ({ name: p, points: curves[p].frag_pct })),
  }));
  await writeSvg(join(DOCS, 'plots', 'fgd-alloc-100.svg'), await barChart({
    title: 'GPU allocation at 100% arrived: tessera vs FGD\'s repository', subtitle: sub, xLabel: 'policy', yLabel: 'allocated GPU milli (%)',
    series: [
      { name: 'tessera', points: GPU_POLICIES.map((p) => [p, medians(byPolicy(p)).alloc_pct_at_100] as const) },
      { name: 'FGD repository', points: GPU_POLICIES.map((p) => [p, FGD_REFERENCE[p].alloc_pct_at_100] as const) },
    ],
  }));
}

/** Beyond the paper: N replicas under ParSync (and quality-first) in the simulator, fgd and bestfit. */
export const PARALLEL_CONFIGS: readonly { schedulers: number; mode: FgdParallelOptions['mode'] }[] = [
  { schedulers: 1, mode: 'quality-first' }, { schedulers: 4, mode: 'quality-first' }, { schedulers: 8, mode: 'quality-first' },
  { schedulers: 1, mode: 'latency-first' }, { schedulers: 4, mode: 'latency-first' }, { schedulers: 8, mode: 'latency-first' },
];
export const PARALLEL_SEEDS = [1];

export async function experimentFgdParallel(ctx: { workers: number; log: (l: string) => void }): Promise<void> {
  ctx.log('(fgd-n) FGD and BestFit with 1, 4, 8 replicas, quality-first and latency-first (ParSync), P = 16, G = 1 s, 100 pods/s');
  const runs: FgdParallelOptions[] = [];
  for (const policy of ['fgd', 'bestfit'] as const) for (const c of PARALLEL_CONFIGS) for (const seed of PARALLEL_SEEDS) runs.push({ policy, seed, ...c });
  const res = await runFgdAll<FgdParallelOptions, FgdParallelResult>(runs, ctx.workers, ctx.log, (o) => `${o.policy} N=${o.schedulers} ${o.mode} seed ${o.seed}`);
  const rows = res.map((r) => ({ policy: r.policy, schedulers: r.schedulers, mode: r.mode, seed: r.seed, alloc_pct_at_100: r.alloc_pct_at_100, alloc_pct_at_130: r.alloc_pct_at_130, frag_rate_at_90: r.frag_rate_at_90, placed: r.placed, proposed_claims: r.proposed_claims, conflicts: r.conflicts, conflict_fraction: Math.round(r.conflict_fraction * 10_000) / 10_000 }));
  for (const r of rows) ctx.log(`  ${r.policy} N=${r.schedulers} ${r.mode}: alloc@100 ${r.alloc_pct_at_100}, @130 ${r.alloc_pct_at_130}, frag@90 ${r.frag_rate_at_90}, conflicts ${r.conflicts}/${r.proposed_claims}`);
  await mkdir(join(DOCS, 'results'), { recursive: true });
  await writeFile(join(DOCS, 'results', 'fgd-parallel.json'), `${JSON.stringify({ setup: 'openb GPU nodes, FGD arrivals (tune 1.3), one pod every 10 ms, never leaving; P = 16, G = 1 s, every node of the chosen partition(s) scored; a pod finding no room gives up after 1 s', seeds: PARALLEL_SEEDS, rows }, null, 2)}\n`, 'utf8');
  const sub = 'openb, simulator, P = 16 partitions, G = 1 s, 100 pods/s; seed 1';
  await writeSvg(join(DOCS, 'plots', 'fgd-parallel.svg'), await barChart({
    title: 'GPU allocation at 100% arrived with N scheduler replicas', subtitle: sub, xLabel: 'replicas and mode', yLabel: 'allocated GPU milli (%)',
    series: (['fgd', 'bestfit'] as const).map((p) => ({ name: p, points: rows.filter((r) => r.policy === p).map((r) => [`N=${r.schedulers} ${r.mode}`, r.alloc_pct_at_100 ?? 0] as const) })),
  }));
}
