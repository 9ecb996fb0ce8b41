/**
 * `tessera replay TRACE`: submits a real trace's jobs (any format @tessera/workloads reads) at
 * their trace times divided by `--speed`, shows progress, waits for the cell to place them, and
 * prints the summary (placements, conflicts, conflict fraction from cell-state's counters, delay
 * p50/p99, utilisation).
 */
import { Presets, SingleBar } from 'cli-progress';
import type { NatsConnection } from '@nats-io/transport-node';
import { ResourceSpace, type JobSpec } from '@tessera/core';
import { JobPublisher, JobPublishError } from '@tessera/runtime';
import { loadTrace, type TraceJob } from '@tessera/workloads';
import { histogramQuantile } from '../core/prom-text.ts';
import { conflictFraction, percentile, tallyJobs, utilisation, type ReplaySummary } from '../core/summary.ts';
import { CliError } from './errors.ts';
import { fetchJobsByIds, fetchPartitions } from './listings.ts';
import { allocatedRatios, bucketDelta, commitDelta, commitSnapshot, delayBuckets, scrape } from './metrics-probe.ts';
import type { CellTarget } from './target.ts';

export interface ReplayOptions {
  readonly trace: string;
  readonly speed: number;
  readonly limit?: number;
  /** Prepended to every job id, so replaying a trace twice does not hit JetStream dedup. */
  readonly idPrefix: string;
  /** How long to wait for placements after the last submission (s). */
  readonly waitS: number;
  readonly space: ResourceSpace;
  /** cell-state's /metrics (conflict counters, utilisation); from the state file when known. */
  readonly cellMetricsUrl?: string;
  readonly schedulerMetricsUrls: readonly string[];
  /** Progress bar on stderr (when it is a terminal). */
  readonly progress: boolean;
  /** Called with a line of status when not drawing a progress bar. */
  readonly note?: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function loadReplayJobs(trace: string, space: ResourceSpace, limit?: number): Promise<TraceJob[]> {
  let loaded;
  try {
    loaded = await loadTrace(trace, { limit, space });
  } catch (e) {
    throw new CliError(`cannot read trace ${trace}: ${(e as Error).message}`, 1, { cause: e });
  }
  if (loaded.jobs.length === 0) {
    const ex = loaded.stats.examples[0];
    throw new CliError(`no jobs in ${trace}${ex ? ` (line ${ex.line}: ${ex.reason}: ${ex.message})` : ''}`);
  }
  return loaded.jobs;
}

async function sampleUtilisation(nc: NatsConnection, target: CellTarget, metricsUrl: string | undefined): Promise<Record<string, number> | undefined> {
  const fromMetrics = allocatedRatios(await scrape(metricsUrl));
  if (fromMetrics !== undefined) return fromMetrics;
  try {
    const parts = await fetchPartitions(nc, target.subjects.queryPartitions);
    const sums: Record<string, number> = {};
    let nodes = 0;
    for (const p of parts) {
      nodes += p.nodes;
      for (const [k, v] of Object.entries(p.allocated_ratio)) sums[k] = (sums[k] ?? 0) + v * p.nodes;
    }
    if (nodes === 0) return undefined;
    for (const k of Object.keys(sums)) sums[k] /= nodes;
    return sums;
  } catch {
    return undefined;
  }
}

/** A busy cell-state may answer late: try a few times before giving up. */
async function fetchWithRetries<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts) throw e;
      await sleep(2000 * i);
    }
  }
}

export async function runReplay(nc: NatsConnection, target: CellTarget, jobs: readonly TraceJob[], o: ReplayOptions): Promise<ReplaySummary> {
  const specs: { job: JobSpec; atMs: number }[] = [];
  const origin = jobs[0].submitS;
  let tasks = 0;
  for (const tj of jobs) {
    specs.push({ job: { ...tj.job, id: `${o.idPrefix}${tj.job.id}` }, atMs: ((tj.submitS - origin) * 1000) / o.speed });
    for (const g of tj.job.tasks) tasks += g.count;
  }
  const commitBefore = commitSnapshot(await scrape(o.cellMetricsUrl));
  const delayBefore = await delayBuckets(o.schedulerMetricsUrls);
  const utilSamples: Record<string, number>[] = [];
  let placedNow = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const u = await sampleUtilisation(nc, target, o.cellMetricsUrl);
      if (u !== undefined) utilSamples.push(u);
      const c = commitDelta(commitSnapshot(await scrape(o.cellMetricsUrl)), commitBefore);
      if (c.committed !== undefined) placedNow = c.committed;
      await sleep(1000);
    }
  })();

  const bar = o.progress ? new SingleBar({
    format: 'replay |{bar}| {value}/{total} jobs submitted | {placed}/{tasks} tasks placed | trace t={traceT}s',
    stream: process.stderr, hideCursor: true, etaBuffer: 50,
  }, Presets.shades_classic) : undefined;
  bar?.start(specs.length, 0, { placed: 0, tasks, traceT: 0 });

  const started = Date.now();
  const publisher = new JobPublisher(nc, target.subjects);
  let lastNote = 0;
  try {
    for (let i = 0; i < specs.length; i++) {
      const wait = started + specs[i].atMs - Date.now();
      if (wait > 2) await sleep(wait);
      await publisher.publish(specs[i].job, Date.now());
      const traceT = Math.round(jobs[i].submitS - origin);
      bar?.update(i + 1, { placed: placedNow, tasks, traceT });
      if (bar === undefined && o.note && Date.now() - lastNote > 10_000) {
        lastNote = Date.now();
        o.note(`replay: ${i + 1}/${specs.length} jobs submitted, ${placedNow}/${tasks} tasks placed`);
      }
    }
    await publisher.flush();
    // Wait for the placements: until every task is committed, or no progress for a while, or the deadline.
    const deadline = Date.now() + o.waitS * 1000;
    let lastProgress = Date.now();
    let lastPlaced = -1;
    while (Date.now() < deadline) {
      bar?.update(specs.length, { placed: placedNow, tasks, traceT: Math.round(jobs[jobs.length - 1].submitS - origin) });
      if (placedNow >= tasks) break;
      if (placedNow !== lastPlaced) { lastPlaced = placedNow; lastProgress = Date.now(); }
      // Without counters, or with no placements for 15 s: check the jobs themselves.
      if (o.cellMetricsUrl === undefined || Date.now() - lastProgress > 15_000) {
        const listed = await fetchJobsByIds(nc, target.subjects.queryJobs, specs.map((s) => s.job.id)).catch(() => undefined);
        if (listed !== undefined && listed.length === specs.length && listed.every((j) => j.state !== 'pending')) break;
        lastProgress = Date.now();
      }
      await sleep(1000);
    }
  } catch (e) {
    throw e instanceof JobPublishError ? new CliError(e.message, 1, { cause: e }) : e;
  } finally {
    sampling = false;
    await sampler;
    bar?.stop();
  }
  const wallS = (Date.now() - started) / 1000;
  const listed = await fetchWithRetries(() => fetchJobsByIds(nc, target.subjects.queryJobs, specs.map((s) => s.job.id), 30_000));
  const tally = tallyJobs(listed);
  const commits = commitDelta(commitSnapshot(await scrape(o.cellMetricsUrl)), commitBefore);
  // The schedulers' histogram measures submit → all tasks committed where it happens, for every
  // job and without loading cell-state with listings; the listing's placedAt − submittedAt (the
  // commit time of the job's last task) is the fallback when no scheduler metrics are reachable.
  const d = bucketDelta(await delayBuckets(o.schedulerMetricsUrls), delayBefore);
  let delayP50S = histogramQuantile(d, 0.5);
  let delayP99S = histogramQuantile(d, 0.99);
  let delaySource: ReplaySummary['delaySource'] = delayP50S !== undefined ? 'histogram' : undefined;
  if (delaySource === undefined && tally.delaysS.length > 0) {
    delayP50S = percentile(tally.delaysS, 0.5);
    delayP99S = percentile(tally.delaysS, 0.99);
    delaySource = 'jobs';
  }
  const { published, duplicates } = await publisher.flush();
  return {
    trace: o.trace, speed: o.speed, wallS, submitted: published + duplicates, duplicates,
    jobs: tally,
    placements: commits.committed ?? tally.placedTasks,
    conflicts: commits.conflicts ?? commits.rejected,
    conflictFraction: conflictFraction(commits),
    delayP50S, delayP99S, delaySource,
    utilisation: utilisation(utilSamples),
    unfinished: (tally.byState.pending ?? 0) + (specs.length - listed.length),
  };
}
