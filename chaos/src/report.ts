/**
 * The chaos verdict and its two renderings (pure): a human summary and the one-line JSON summary
 * (`--json`: the last line of stdout). A run fails when any invariant is violated or a kill kind
 * was never exercised.
 */
import type { JobAudit, LogAudit } from './audit.ts';
import type { ConcurrentRun } from './agent-reports.ts';
import { quantile } from './recovery.ts';
import { KILL_KINDS, type KillKind } from './schedule.ts';

export interface KillRecord {
  readonly kind: KillKind;
  readonly name: string;
  /** ms since the load started. */
  readonly atS: number;
  readonly downMs: number;
  /** Kill → cell commits and answers again (see recovery.ts); undefined: never. */
  readonly recoveryS?: number;
  /** Kill → the killed process ready again; undefined: it did not come back. */
  readonly restartS?: number;
}

export interface ChaosFacts {
  readonly seed: string;
  readonly minutes: number;
  readonly loadedS: number;
  readonly nodes: number;
  readonly schedulers: number;
  readonly cellStates: number;
  readonly ratePerS: number;
  readonly targetUtilisation: number;
  /** Preemption load: filler jobs per second, the utilisation they add, and how many were submitted. */
  readonly fillerRatePerS: number;
  readonly fillerUtilisation: number;
  readonly fillers: number;
  /** Mean allocated ratio of the bottleneck resource over the samples taken. */
  readonly meanUtilisation?: number;
  readonly submitted: number;
  readonly tasksSubmitted: number;
  readonly acked: number;
  readonly unacked: number;
  readonly inStream: number;
  readonly log: LogAudit;
  readonly jobs: JobAudit;
  readonly concurrentRuns: readonly ConcurrentRun[];
  readonly agentTasksSeen: number;
  readonly kills: readonly KillRecord[];
  readonly settled: boolean;
  readonly settleS: number;
}

export interface ChaosSummary {
  readonly ok: boolean;
  readonly failures: string[];
  readonly seed: string;
  readonly minutes: number;
  readonly loaded_s: number;
  readonly cell: { nodes: number; schedulers: number; cell_states: number };
  readonly load: { jobs_per_s: number; target_utilisation: number; mean_utilisation: number | null };
  readonly jobs: { submitted: number; acked: number; unacked: number; in_stream: number; by_state: Record<string, number>; unsettled: number };
  readonly tasks_submitted: number;
  readonly transactions: number;
  readonly claims: number;
  readonly log_entries: number;
  readonly writers: number;
  readonly kills: Record<KillKind, number>;
  readonly kills_survived: Record<KillKind, number>;
  readonly lost_jobs: number;
  /** Preemption: filler jobs submitted, tasks evicted at least once (victims), evictions, and victims neither placed again nor given a verdict. */
  readonly preemption: { filler_jobs_per_s: number; filler_utilisation: number; filler_jobs: number; victims: number; evictions: number; lost_victims: number };
  readonly duplicate_placements: number;
  readonly duplicates: { still_placed: number; after_end: number; concurrent_on_agents: number };
  readonly overcommits: number;
  readonly listing_mismatches: number;
  readonly unreadable_log_entries: number;
  readonly log_anomalies: number;
  readonly recovery_s: { p50: number | null; max: number | null };
  readonly restart_s: { p50: number | null; max: number | null };
  readonly recovery_by_kind: Record<KillKind, { p50: number | null; max: number | null }>;
  readonly settle_s: number;
  readonly kill_log: { kind: KillKind; name: string; at_s: number; down_ms: number; recovery_s: number | null; restart_s: number | null }[];
  readonly examples: { lost: string[]; duplicates: string[]; overcommits: string[]; listing: string[]; log_anomalies: string[] };
}

const r3 = (x: number | undefined): number | null => (x === undefined ? null : Math.round(x * 1000) / 1000);
const stats = (xs: number[]) => ({ p50: r3(quantile(xs, 0.5)), max: r3(xs.length === 0 ? undefined : Math.max(...xs)) });
const byKind = <T>(f: (k: KillKind) => T) => Object.fromEntries(KILL_KINDS.map((k) => [k, f(k)])) as Record<KillKind, T>;

export function summarize(f: ChaosFacts): ChaosSummary {
  const dupStill = f.log.duplicates.filter((d) => d.kind === 'still-placed').length;
  const dupEnd = f.log.duplicates.length - dupStill;
  const duplicates = f.log.duplicates.length + f.concurrentRuns.length;
  const kills = byKind((k) => f.kills.filter((x) => x.kind === k).length);
  const survived = byKind((k) => f.kills.filter((x) => x.kind === k && x.recoveryS !== undefined && x.restartS !== undefined).length);
  const recoveries = f.kills.flatMap((k) => (k.recoveryS === undefined ? [] : [k.recoveryS]));
  const restarts = f.kills.flatMap((k) => (k.restartS === undefined ? [] : [k.restartS]));
  const failures: string[] = [];
  if (f.jobs.lost.length > 0) failures.push(`${f.jobs.lost.length} acknowledged jobs lost`);
  if (f.jobs.lostVictims > 0) failures.push(`${f.jobs.lostVictims} preempted tasks never placed again nor given a verdict`);
  if (duplicates > 0) failures.push(`${duplicates} duplicate placements`);
  if (f.log.overcommits.length > 0) failures.push(`${f.log.overcommits.length} over-committed node versions`);
  if (f.jobs.listingMismatches.length > 0) failures.push(`${f.jobs.listingMismatches.length} jobs listed differently from the log`);
  if (f.log.unreadable.length > 0) failures.push(`${f.log.unreadable.length} unreadable commit-log entries or records`);
  for (const k of KILL_KINDS) {
    if (kills[k] === 0) failures.push(`no ${k} kill`);
    else if (survived[k] < kills[k]) failures.push(`${kills[k] - survived[k]} of ${kills[k]} ${k} kills not recovered`);
  }
  if (f.acked === 0) failures.push('no job was acknowledged');
  if (f.log.transactions === 0) failures.push('no transaction committed');
  const meanUtil = f.meanUtilisation;
  return {
    ok: failures.length === 0,
    failures,
    seed: f.seed,
    minutes: f.minutes,
    loaded_s: Math.round(f.loadedS),
    cell: { nodes: f.nodes, schedulers: f.schedulers, cell_states: f.cellStates },
    load: { jobs_per_s: r3(f.ratePerS)!, target_utilisation: f.targetUtilisation, mean_utilisation: r3(meanUtil) },
    jobs: { submitted: f.submitted, acked: f.acked, unacked: f.unacked, in_stream: f.inStream, by_state: f.jobs.byState, unsettled: f.jobs.unsettled },
    tasks_submitted: f.tasksSubmitted,
    transactions: f.log.transactions,
    claims: f.log.claims,
    log_entries: f.log.entries,
    writers: f.log.writers.length,
    kills,
    kills_survived: survived,
    lost_jobs: f.jobs.lost.length,
    preemption: { filler_jobs_per_s: r3(f.fillerRatePerS)!, filler_utilisation: f.fillerUtilisation, filler_jobs: f.fillers, victims: f.jobs.victims, evictions: f.jobs.evictions, lost_victims: f.jobs.lostVictims },
    duplicate_placements: duplicates,
    duplicates: { still_placed: dupStill, after_end: dupEnd, concurrent_on_agents: f.concurrentRuns.length },
    overcommits: f.log.overcommits.length,
    listing_mismatches: f.jobs.listingMismatches.length,
    unreadable_log_entries: f.log.unreadable.length,
    log_anomalies: f.log.anomalies.length,
    recovery_s: stats(recoveries),
    restart_s: stats(restarts),
    recovery_by_kind: byKind((k) => stats(f.kills.flatMap((x) => (x.kind === k && x.recoveryS !== undefined ? [x.recoveryS] : [])))),
    settle_s: Math.round(f.settleS * 10) / 10,
    kill_log: f.kills.map((k) => ({ kind: k.kind, name: k.name, at_s: Math.round(k.atS * 10) / 10, down_ms: k.downMs, recovery_s: r3(k.recoveryS), restart_s: r3(k.restartS) })),
    examples: {
      lost: f.jobs.lost.slice(0, 5).map((l) => `${l.id}: ${l.why}`),
      duplicates: [
        ...f.log.duplicates.slice(0, 5).map((d) => `seq ${d.seq}: ${d.taskId} on ${d.nodeId} (${d.kind}${d.placedOn ? `, placed on ${d.placedOn}` : ''})`),
        ...f.concurrentRuns.slice(0, 5).map((c) => `${c.taskId} reported running on ${c.nodes[0]} and ${c.nodes[1]} for ${c.to - c.from} ms`),
      ],
      overcommits: f.log.overcommits.slice(0, 5).map((o) => `seq ${o.seq}: ${o.nodeId} v${o.version} ${o.resource} ${o.allocated} > ${o.capacity}`),
      listing: f.jobs.listingMismatches.slice(0, 5).map((m) => `${m.id}: ${m.why}`),
      log_anomalies: [...f.log.unreadable, ...f.log.anomalies].slice(0, 5).map((a) => `seq ${a.seq}: ${a.message}`),
    },
  };
}

const fmt = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)} s`);

export function humanSummary(s: ChaosSummary): string {
  const lines: string[] = [];
  const kinds = KILL_KINDS.map((k) => `${k} ${s.kills_survived[k]}/${s.kills[k]}`).join(', ');
  lines.push(`chaos run, seed ${s.seed}: ${s.loaded_s} s under load (${s.cell.nodes} nodes, ${s.cell.schedulers} schedulers, ${s.cell.cell_states} cell-state${s.cell.cell_states > 1 ? 's' : ''})`);
  lines.push(`  load                ${s.load.jobs_per_s} jobs/s for ${Math.round(s.load.target_utilisation * 100)}% (measured ${s.load.mean_utilisation === null ? '-' : `${Math.round(s.load.mean_utilisation * 100)}%`})`);
  lines.push(`  jobs                ${s.jobs.acked} acknowledged of ${s.jobs.submitted} submitted (${s.tasks_submitted} tasks), ${s.jobs.in_stream} in the jobs stream`);
  lines.push(`  job states          ${Object.entries(s.jobs.by_state).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}`);
  lines.push(`  commit log          ${s.log_entries} entries, ${s.transactions} transactions committed (${s.claims} claims), ${s.writers} writers`);
  lines.push(`  kills survived      ${kinds}`);
  lines.push(`  recovery            p50 ${fmt(s.recovery_s.p50)}, max ${fmt(s.recovery_s.max)}  (restart of the killed process: p50 ${fmt(s.restart_s.p50)}, max ${fmt(s.restart_s.max)})`);
  for (const k of KILL_KINDS) lines.push(`    ${k.padEnd(16)}  p50 ${fmt(s.recovery_by_kind[k].p50)}, max ${fmt(s.recovery_by_kind[k].max)}`);
  lines.push(`  lost jobs           ${s.lost_jobs}`);
  lines.push(`  preemption          ${s.preemption.filler_jobs} filler jobs (${s.preemption.filler_jobs_per_s}/s, +${Math.round(s.preemption.filler_utilisation * 100)}%): ${s.preemption.evictions} evictions of ${s.preemption.victims} tasks, ${s.preemption.lost_victims} lost victims`);
  lines.push(`  duplicate placements ${s.duplicate_placements} (committed while placed ${s.duplicates.still_placed}, after the end ${s.duplicates.after_end}, on two agents at once ${s.duplicates.concurrent_on_agents})`);
  lines.push(`  over-commits        ${s.overcommits}`);
  lines.push(`  listing vs log      ${s.listing_mismatches} mismatches; ${s.unreadable_log_entries} unreadable log entries; settled in ${s.settle_s} s`);
  for (const [what, xs] of Object.entries(s.examples)) for (const x of xs) lines.push(`    ${what}: ${x}`);
  lines.push(s.ok ? 'OK: every invariant held' : `FAILED: ${s.failures.join('; ')}`);
  return lines.join('\n');
}
