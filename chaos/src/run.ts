/**
 * One chaos run: start a fresh local cell, put the seeded load on it, kill -9 processes on the
 * seeded schedule (restarting each after its down time), stop the load, let the cell settle,
 * then audit the commit log, the jobs stream, the live listing and the agents' reports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CELL_SHAPES, BUNDLED, jobSizeDistribution, loadTrace, type JobSizeDistribution } from '@tessera/workloads';
import { createRng } from '@tessera/policy';
import { decodeJobsMessage, jobsListingReply, subjectsFor, type JobListing } from '@tessera/protocol';
import { connectNats, createLogger, request, type NatsConnection } from '@tessera/runtime';
import type { Supervised } from '@tessera/launcher';
import { auditJobs, LogAudit } from './audit.ts';
import { ChaosCell } from './cell.ts';
import { LoadGenerator } from './load.ts';
import { Observers } from './observers.ts';
import type { ChaosOptions } from './options.ts';
import { recoveryAfter } from './recovery.ts';
import { summarize, type ChaosSummary, type KillRecord } from './report.ts';
import { planKills, type KillKind, type PlannedKill } from './schedule.ts';
import { DEFAULT_WORKLOAD, FILLER_DURATION_FACTOR, jobRateFor, meanJobWork, meanTasksPerJob, utilisationAt, type ChaosWorkloadOptions } from './workload.ts';
import { readWholeStream } from './streams.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const CELL = 'chaos';
/** How long a kill waits for the cell to recover from the previous one before going ahead anyway. */
const RECOVERY_WAIT_MS = 120_000;

export type Progress = (line: string) => void;

export class ChaosHarnessError extends Error {
  override readonly name = 'ChaosHarnessError';
}

interface KillInFlight {
  readonly plan: PlannedKill;
  readonly name: string;
  readonly killAt: number;
  readonly status: { restartedAt?: number; restartFailed?: string };
  readonly restarted: Promise<void>;
}

export async function runChaos(o: ChaosOptions, progress: Progress): Promise<{ summary: ChaosSummary; dataDir: string }> {
  const t0 = Date.now();
  const dataDir = o.dataDir !== undefined ? resolve(o.dataDir) : mkdtempSync(join(tmpdir(), 'tessera-chaos-'));
  if (o.dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  const workload: ChaosWorkloadOptions = { ...DEFAULT_WORKLOAD, maxTasksPerJob: o.maxTasksPerJob };
  const shape = CELL_SHAPES.alibaba2017;

  progress(`loading the alibaba2017 trace distribution…`);
  const dist: JobSizeDistribution = jobSizeDistribution((await loadTrace(BUNDLED.alibaba2017Jobs)).jobs);
  const capacity = { cpu_millis: shape.cpu_millis * o.nodes, mem_mib: shape.mem_mib * o.nodes };
  const work = meanJobWork(dist, createRng(`chaos/${o.seed}/calibration`), workload);
  const ratePerS = o.rate ?? jobRateFor(work, capacity, o.utilisation);
  const offeredUtilisation = utilisationAt(work, capacity, ratePerS);
  const tasksPerJob = meanTasksPerJob(dist, createRng(`chaos/${o.seed}/calibration-tasks`), workload);
  // Fillers are chaos jobs FILLER_DURATION_FACTOR times longer: that much more work each.
  const fillerWork = Object.fromEntries(Object.entries(work).map(([r, w]) => [r, w * FILLER_DURATION_FACTOR]));
  const fillerRatePerS = o.fillerUtilisation > 0 ? jobRateFor(fillerWork, capacity, o.fillerUtilisation) : 0;
  const durationMs = o.minutes * 60_000;
  const plan = planKills({ durationMs, seed: o.seed, meanGapMs: o.killGapS * 1000 });
  progress(`${plan.length} kills planned (${plan.map((k) => `${k.kind}@${Math.round(k.atMs / 1000)}s`).join(', ')}); load ${ratePerS.toFixed(2)} jobs/s (≈ ${Math.round(ratePerS * tasksPerJob)} tasks/s) for ${Math.round(offeredUtilisation * 100)}% of ${o.nodes} nodes${fillerRatePerS > 0 ? `, plus ${fillerRatePerS.toFixed(2)} preemptible filler jobs/s for ${Math.round(o.fillerUtilisation * 100)}% more` : ''}`);

  const cell = new ChaosCell({
    cell: CELL, dataDir, nodes: o.nodes, nodesPerAgent: o.nodesPerAgent, schedulers: o.schedulers, cellStates: o.cellStates,
    partitions: o.partitions, nodeShape: shape, heartbeatMs: o.heartbeatMs, logLevel: o.logLevel,
  });
  const exitHook = () => cell.killNow();
  process.on('exit', exitHook);
  let nc: NatsConnection | undefined;
  let observers: Observers | undefined;
  let load: LoadGenerator | undefined;
  try {
    progress(`starting the cell in ${dataDir}…`);
    try {
      await cell.start();
    } catch (e) {
      throw new ChaosHarnessError(`the cell did not start: ${(e as Error).message}`, { cause: e });
    }
    const s = subjectsFor(CELL);
    nc = await connectNats(cell.natsUrl, 'tessera chaos', createLogger('chaos', 'silent'), cell.auth?.credentials({ role: 'admin' }));
    await cell.waitForNodes(nc, 120_000);
    progress(`cell up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${cell.services.map((x) => x.name).join(', ')}`);

    observers = new Observers(nc, s, o.heartbeatMs);
    observers.start();
    load = new LoadGenerator(nc, s, dist, { ratePerS, seed: o.seed, workload, idPrefix: `c${o.seed}-`, fillerRatePerS });
    const loadStart = Date.now();
    load.start();

    // ---- kills -----------------------------------------------------------------------------
    const kills: KillInFlight[] = [];
    const turns = new Map<KillKind, { first: number; n: number }>();
    const obs = observers;
    for (const k of plan) {
      const due = loadStart + k.atMs;
      if (Date.now() < due) await sleep(due - Date.now());
      const prev = kills[kills.length - 1];
      if (prev !== undefined) {
        const deadline = Date.now() + RECOVERY_WAIT_MS;
        while (Date.now() < deadline && !(prev.status.restartedAt !== undefined || prev.status.restartFailed !== undefined)) await sleep(100);
        while (Date.now() < deadline && !obs.recoveredSince(Math.max(prev.killAt, prev.status.restartedAt ?? 0))) await sleep(100);
        // Let the restarted process rejoin for a moment, so the next kill hits a whole cell.
        await sleep(1_000);
      }
      const target = await pickTarget(cell, k.kind, k.pick, turns);
      const killAt = Date.now();
      await cell.kill(target);
      const status: { restartedAt?: number; restartFailed?: string } = {};
      const entry: KillInFlight = {
        plan: k, name: target.name, killAt, status,
        restarted: (async () => {
          await sleep(k.downMs);
          try {
            await cell.restart(target);
            status.restartedAt = Date.now();
          } catch (e) {
            status.restartFailed = (e as Error).message.split('\n')[0];
          }
        })(),
      };
      kills.push(entry);
      progress(`${((killAt - loadStart) / 1000).toFixed(1)} s: kill -9 ${target.name} (${k.kind}), back in ${k.downMs} ms`);
      void entry.restarted.then(() => progress(status.restartFailed === undefined
        ? `  ${target.name} ready again after ${((status.restartedAt! - killAt) / 1000).toFixed(1)} s`
        : `  ${target.name} did not come back: ${status.restartFailed}`));
    }
    // The load runs for the whole planned time, and at least until the last kill recovered.
    const last = kills[kills.length - 1];
    await last?.restarted;
    const recoverDeadline = Date.now() + RECOVERY_WAIT_MS;
    while (last !== undefined && Date.now() < recoverDeadline && !obs.recoveredSince(Math.max(last.killAt, last.status.restartedAt ?? 0))) await sleep(100);
    const loadEnd = Math.max(loadStart + durationMs, Date.now() + 5_000);
    await sleep(loadEnd - Date.now());
    await load.stop();
    const loadStoppedAt = Date.now();
    const loadedS = (loadStoppedAt - loadStart) / 1000;
    progress(`load stopped after ${loadedS.toFixed(0)} s: ${load.acked.size} of ${load.submitted} jobs acknowledged; settling…`);

    // ---- settle ----------------------------------------------------------------------------
    const settleStart = Date.now();
    const ids = [...load.acked.keys()];
    const listing = new Map<string, JobListing>();
    let settled = false;
    // Jobs not seen in a terminal state yet: each pass lists only these (a pass over every job of a
    // long loaded run — 80,000 jobs, millions of tasks — took longer than a request's timeout).
    let open = ids;
    let lastError: Error | undefined;
    while (true) {
      const pass = await listJobs(nc, s.queryJobs, open);
      for (const [id, j] of pass.jobs) listing.set(id, j);
      lastError = pass.error ?? lastError;
      open = open.filter((id) => !isTerminal(listing.get(id)?.state));
      if (open.length === 0 && pass.error === undefined) { settled = true; break; }
      if (Date.now() - settleStart > o.settleS * 1000) {
        if (pass.jobs.size === 0 && pass.error !== undefined) throw new ChaosHarnessError(`cannot list jobs: ${pass.error.message}`);
        progress(`not settled after ${o.settleS} s: ${open.length} jobs still open${lastError !== undefined ? ` (last listing error: ${lastError.message})` : ''}`);
        break;
      }
      await sleep(2_000);
    }
    const settleS = (Date.now() - settleStart) / 1000;
    progress(`settled in ${settleS.toFixed(1)} s; reading the commit log and the jobs stream…`);

    // ---- audit -----------------------------------------------------------------------------
    const audit = new LogAudit({ partitions: o.partitions });
    await readWholeStream(nc, s.commitLogStream, (seq, data) => audit.applyBytes(seq, data));
    const inStream = new Set<string>();
    await readWholeStream(nc, s.jobsStream, (_seq, data) => {
      const d = decodeJobsMessage(data);
      if (d.ok) for (const sub of d.value) if (sub.attempt === undefined && typeof sub.job.id === 'string') inStream.add(sub.job.id);
    });
    const jobs = auditJobs(audit.state, ids, inStream, listing);
    observers.stop();
    // Over the loaded phase only, once the first tasks had time to fill the cell.
    const util = observers.utilisation.filter((u) => u.at >= loadStart + 10_000 && u.at <= loadStoppedAt);
    const meanUtilisation = util.length === 0 ? undefined : util.reduce((a, u) => a + Math.max(u.ratio.cpu_millis ?? 0, u.ratio.mem_mib ?? 0), 0) / util.length;

    const killRecords: KillRecord[] = kills.map((k) => {
      const r = recoveryAfter(k.killAt, audit.commitTimes, observers!.queryOks);
      return {
        kind: k.plan.kind, name: k.name, atS: (k.killAt - loadStart) / 1000, downMs: k.plan.downMs,
        recoveryS: r.recoveryMs === undefined ? undefined : r.recoveryMs / 1000,
        restartS: k.status.restartedAt === undefined ? undefined : (k.status.restartedAt - k.killAt) / 1000,
      };
    });
    const summary = summarize({
      seed: o.seed, minutes: o.minutes, loadedS, nodes: o.nodes, schedulers: o.schedulers, cellStates: o.cellStates,
      ratePerS, targetUtilisation: offeredUtilisation, meanUtilisation,
      fillerRatePerS, fillerUtilisation: o.fillerUtilisation, fillers: load.fillers,
      submitted: load.submitted, tasksSubmitted: load.tasksSubmitted, acked: load.acked.size, unacked: load.unacked.length, inStream: inStream.size,
      log: audit, jobs, concurrentRuns: observers.reports.concurrentRuns(), agentTasksSeen: observers.reports.tasks,
      kills: killRecords, settled, settleS,
    });
    return { summary, dataDir };
  } finally {
    observers?.stop();
    await load?.stop().catch(() => undefined);
    await nc?.close().catch(() => undefined);
    progress('stopping the cell…');
    await cell.stop();
    process.off('exit', exitHook);
  }
}

function isTerminal(state: string | undefined): boolean {
  return state === 'finished' || state === 'failed' || state === 'unschedulable';
}

/** The listings of `ids`, 500 a request; a request that fails leaves its jobs out (the error is returned). */
async function listJobs(nc: NatsConnection, subject: string, ids: readonly string[]): Promise<{ jobs: Map<string, JobListing>; error?: Error }> {
  const jobs = new Map<string, JobListing>();
  let error: Error | undefined;
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    try {
      for (let offset = 0; ;) {
        const r = await request(nc, subject, { ids: chunk, offset, limit: chunk.length }, jobsListingReply, { timeoutMs: 10_000 });
        for (const j of r.items) jobs.set(j.id, j);
        offset += r.items.length;
        if (r.items.length === 0 || offset >= r.total) break;
      }
    } catch (e) {
      error = e as Error;
    }
  }
  return error === undefined ? { jobs } : { jobs, error };
}

/**
 * The process to kill: the cell-state leader; otherwise instances of the kind in turn, starting
 * from the seeded pick of the kind's first kill (so a long run kills every scheduler and agent).
 */
async function pickTarget(cell: ChaosCell, kind: KillKind, pick: number, turns: Map<KillKind, { first: number; n: number }>): Promise<Supervised> {
  if (kind === 'cell-state') return cell.leader();
  const all = cell.of(kind);
  const turn = turns.get(kind) ?? { first: pick, n: 0 };
  turns.set(kind, { first: turn.first, n: turn.n + 1 });
  return all[(turn.first + turn.n) % all.length];
}
