/**
 * `npm run bench -- --small-jobs N --nodes 100 --schedulers K`: the cost of the job path itself.
 * N single-task jobs (1 core, 10 MiB — the Slurm baseline's workload) are submitted at once to a
 * fresh cell of nodes of 128 cores / 256 GiB, and timed from the first submit to the last commit.
 *
 * Every job carries the same `submittedAt` (the first publish, as `tessera submit` stamps a
 * file); cell-state's listing gives each job's `placedAt` (the commit time of its task, on the
 * same machine's clock), so the last commit is exact, not the tick of a poll. The poll of
 * cell-state's committed-claims counter only says when to look.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@tessera/launcher';
import { ConflictReason, type JobSpec } from '@tessera/core';
import { JobPublisher } from '@tessera/runtime';
import { DEFAULT_JOBS_PER_BATCH, subjectsFor } from '@tessera/protocol';
import { BenchCell, type BenchCellSpec } from './cell.ts';
import { clockTicksPerSecond, readProc } from './proc.ts';
import { profileFileIds, readCpuProfile, summariseProfile, type ProfileSummary, type ProfileWindow } from './profile.ts';
import { parsePrometheusText } from './prom.ts';

/** The node shape of the small-jobs run: 128 cores, 256 GiB. */
export const SMALL_JOBS_NODE = { cpu_millis: 128_000, mem_mib: 262_144 } as const;
/** One small job's task: 1 core, 10 MiB; long enough that nothing ends while we measure. */
export const SMALL_JOB_TASK = { cpu_millis: 1_000, mem_mib: 10 } as const;

export interface SmallJobsSpec {
  readonly jobs: number;
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly mode: string;
  /** Extra flags per service (e.g. `{ scheduler: ['--concurrency', '512'] }`). */
  readonly extraArgs?: BenchCellSpec['extraArgs'];
  readonly nodeArgs?: BenchCellSpec['nodeArgs'];
  readonly timeoutS?: number;
  /** Jobs per jobs-stream message (default: the publisher's batch size; 1: one message a job). */
  readonly jobsPerMessage?: number;
  /** Run the services under `node --cpu-prof` and summarise each profile over the measured window. */
  readonly profileDir?: string;
}

export interface SmallJobsResult {
  readonly jobs: number;
  /** First publish → last publish ack. */
  readonly submit_s: number;
  /** First publish → the last task's commit. */
  readonly all_committed_s: number;
  readonly jobs_per_s: number;
  readonly placed: number;
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly jobs_per_message: number;
  readonly load_avg: readonly number[];
  /** Counters of the services over the run (commit batches and requests, rejected claims, retries, syncs). */
  readonly counts: Readonly<Record<string, number>>;
  /** CPU seconds each process spent from the first submit to the last commit. */
  readonly cpu_s: Readonly<Record<string, number>>;
  readonly profiles?: readonly { readonly service: string; readonly file: string; readonly summary: ProfileSummary }[];
}

export function smallJob(i: number): JobSpec {
  return {
    id: `small-${i}`, tenant: 'bench', queue: 'default', priority: 100, gang: false,
    tasks: [{ name: 't', count: 1, resources: { ...SMALL_JOB_TASK }, duration_s: 86_400 }],
  } as unknown as JobSpec;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Sum of the samples of `name` (with every label of `labels`) at `url`; NaN when it could not be
 * read in three tries (a busy process can miss one 5 s scrape: counting that as 0 made deltas
 * negative), so an unknown count shows as unknown rather than as a wrong number.
 */
export async function counter(url: string | undefined, name: string, labels: Record<string, string> = {}): Promise<number> {
  if (url === undefined) return 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      let sum = 0;
      for (const x of parsePrometheusText(text)) {
        if (x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)) sum += x.value;
      }
      return sum;
    } catch {
      await sleep(200);
    }
  }
  return NaN;
}

/** cell-state's claims by outcome (`committed`, `rejected`) so far. */
export const claimCounter = (url: string | undefined, outcome: 'committed' | 'rejected') => counter(url, 'tessera_commit_claims_total', { outcome });
const committedClaims = (url: string | undefined) => claimCounter(url, 'committed');

/** What the services counted meanwhile: where the work went (batches, conflicts, retries, syncs). */
const COUNTERS = {
  commit_batches: ['cell-state', 'tessera_commit_batch_seconds_count'],
  commit_requests: ['scheduler', 'tessera_scheduler_commit_seconds_count'],
  claims_rejected: ['cell-state', 'tessera_commit_claims_total', { outcome: 'rejected' }],
  retries_conflict: ['scheduler', 'tessera_scheduler_retries_total', { cause: 'conflict' }],
  retries_no_room: ['scheduler', 'tessera_scheduler_retries_total', { cause: 'no_room' }],
  syncs: ['scheduler', 'tessera_scheduler_sync_seconds_count'],
  // Refused claims by reason (conflicts_resources, conflicts_quota, …).
  ...Object.fromEntries(Object.values(ConflictReason).map((r) => [`conflicts_${r}`, ['cell-state', 'tessera_commit_conflicts_total', { reason: r }]])),
} as Record<string, readonly [string, string, Record<string, string>?]>;

async function readCounters(cell: BenchCell): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [key, [kind, name, labels]] of Object.entries(COUNTERS)) {
    const urls = cell.handle.services.filter((s) => s.kind === kind).map((s) => s.metricsUrl);
    out[key] = (await Promise.all(urls.map((u) => counter(u, name, labels ?? {})))).reduce((a, b) => a + b, 0);
  }
  return out;
}

function cpuTicks(cell: BenchCell): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of cell.handle.services) {
    if (s.pid === undefined) continue;
    const r = readProc(s.pid);
    if (r !== undefined) out.set(s.name, r.stat.utime + r.stat.stime);
  }
  return out;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

function profileArgs(dir: string | undefined): BenchCellSpec['nodeArgs'] {
  if (dir === undefined) return undefined;
  const args = (kind: string) => {
    mkdirSync(join(dir, kind), { recursive: true });
    return ['--cpu-prof', '--cpu-prof-dir', join(dir, kind)];
  };
  return { 'cell-state': args('cell-state'), scheduler: args('scheduler'), 'node-agent': args('node-agent') };
}

/** Main-thread profiles of the services (tid 0; the other one is tsx's loader thread), over the window. */
function readProfiles(dir: string, pids: Map<number, string>, window: ProfileWindow): NonNullable<SmallJobsResult['profiles']> {
  const out: { service: string; file: string; summary: ProfileSummary }[] = [];
  for (const kind of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, kind)).sort()) {
      const ids = profileFileIds(f);
      if (ids === undefined || ids.tid !== 0) continue;
      const file = join(dir, kind, f);
      out.push({ service: pids.get(ids.pid) ?? `pid ${ids.pid}`, file, summary: summariseProfile(readCpuProfile(file), 25, REPO_ROOT, window) });
    }
  }
  return out.sort((a, b) => a.service.localeCompare(b.service, 'en', { numeric: true }));
}

export async function runSmallJobs(spec: SmallJobsSpec, log: (line: string) => void): Promise<SmallJobsResult> {
  const nodeArgs = spec.nodeArgs ?? profileArgs(spec.profileDir);
  const cell = await BenchCell.start(`small${process.pid}`, {
    nodes: spec.nodes, schedulers: spec.schedulers, partitions: spec.partitions, mode: spec.mode, timeScale: 1, nodeShape: SMALL_JOBS_NODE,
    ...(spec.extraArgs !== undefined ? { extraArgs: spec.extraArgs } : {}),
    ...(nodeArgs !== undefined ? { nodeArgs } : {}),
  });
  const pids = new Map(cell.handle.services.filter((s) => s.pid !== undefined).map((s) => [s.pid!, s.name]));
  let window: ProfileWindow | undefined;
  let result: Omit<SmallJobsResult, 'profiles'>;
  try {
    await cell.waitSchedulersReady();
    const jobs = Array.from({ length: spec.jobs }, (_, i) => smallJob(i));
    const subjects = subjectsFor(cell.name);
    const metricsUrl = cell.handle.cellStateMetricsUrl;
    const before = await committedClaims(metricsUrl);
    const counts0 = await readCounters(cell);
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    log(`== small jobs: ${spec.jobs} single-task jobs, ${spec.nodes} nodes, K=${spec.schedulers}, P=${spec.partitions}; load average ${load.join(' ')}`);

    const cpu0 = cpuTicks(cell);
    const own0 = process.cpuUsage();
    const pub = new JobPublisher(cell.nc, subjects);
    const fromUs = monotonicUs();
    const t0 = Date.now();
    if (spec.jobsPerMessage === 1) for (const job of jobs) await pub.publish(job, t0);
    else await pub.publishAll(jobs, t0, spec.jobsPerMessage);
    await pub.flush();
    const submitS = (Date.now() - t0) / 1000;
    log(`submitted ${pub.published} jobs in ${submitS.toFixed(2)} s (${Math.round(pub.published / submitS)} jobs/s)${pub.duplicates > 0 ? `, ${pub.duplicates} duplicates` : ''}`);

    const deadline = Date.now() + (spec.timeoutS ?? Math.max(60, spec.jobs / 100)) * 1000;
    let committed = 0;
    let lastLog = Date.now();
    while (Date.now() < deadline) {
      committed = (await committedClaims(metricsUrl)) - before;
      if (committed >= spec.jobs) break;
      if (Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        log(`${committed}/${spec.jobs} committed after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }
      // Each poll is a /metrics scrape of cell-state (CPU it takes from the job path): the exact end comes from placedAt.
      await sleep(200);
    }
    window = { fromUs, toUs: monotonicUs() };
    const cpu1 = cpuTicks(cell);
    const ticks = clockTicksPerSecond();
    const cpuS: Record<string, number> = {};
    for (const [name, t] of cpu1) cpuS[name] = Math.round(((t - (cpu0.get(name) ?? t)) / ticks) * 100) / 100;
    const own = process.cpuUsage(own0);
    cpuS.bench = Math.round((own.user + own.system) / 10_000) / 100;

    const counts1 = await readCounters(cell);
    const counts: Record<string, number> = {};
    // Only what moved (a conflict reason that never fired is noise); NaN = a scrape that failed.
    for (const k of Object.keys(counts1)) {
      const d = counts1[k] - counts0[k];
      if (d !== 0) counts[k] = d;
    }
    const ids = jobs.map((j) => j.id);
    // A listing request may time out on a busy cell-state, or come back as a shorter page: ask
    // again for the jobs not listed yet.
    const listed = new Map<string, { delayMs?: number }>();
    let missing = ids;
    for (let attempt = 0; attempt < 4 && missing.length > 0; attempt++) {
      const batches: string[][] = [];
      for (let i = 0; i < missing.length; i += 1_000) batches.push(missing.slice(i, i + 1_000));
      for (const j of await cell.listedDelays(batches, 30_000)) listed.set(j.id, j);
      missing = missing.filter((id) => !listed.has(id));
    }
    let placed = 0, lastMs = 0;
    for (const j of listed.values()) {
      if (j.delayMs === undefined) continue;
      placed++;
      if (j.delayMs > lastMs) lastMs = j.delayMs;
    }
    if (placed < spec.jobs) log(`only ${placed}/${spec.jobs} jobs listed as placed (${committed} claims committed) within the timeout`);
    const allS = lastMs / 1000;
    result = {
      jobs: spec.jobs, submit_s: round3(submitS), all_committed_s: round3(allS), jobs_per_s: Math.round(placed / allS),
      placed, nodes: spec.nodes, schedulers: spec.schedulers, partitions: spec.partitions, jobs_per_message: spec.jobsPerMessage ?? DEFAULT_JOBS_PER_BATCH, load_avg: load, counts, cpu_s: cpuS,
    };
  } finally {
    // SIGTERM: the services drain and exit, and node writes the profiles on the way out.
    await cell.stop();
  }
  if (spec.profileDir === undefined || window === undefined) return result;
  return { ...result, profiles: readProfiles(spec.profileDir, pids, window) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
