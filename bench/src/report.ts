/**
 * The markdown report and its SVG plots (@tessera/plots), from results files: the latest
 * `--compare` run, plus the latest `--scale` and `--profile` runs when there are any.
 * Written to bench/results/<timestamp>.md and, for the docs, docs/benchmark.md with its plots in
 * docs/plots/bench-*.svg.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@tessera/launcher';
import { barChart, lineChart, writeSvg, type Series } from '@tessera/plots';
import { LOAD_PROFILE, type CompareResult } from './compare.ts';
import type { CellRun } from './experiments.ts';
import type { ResultsFile, Setup } from './results.ts';
import type { ScaleResult } from './scale.ts';
import type { WindowMetrics } from './window.ts';

type Compare = Extract<ResultsFile, { kind: 'compare' }>;
type Scale = Extract<ResultsFile, { kind: 'scale' }>;
type Profile = Extract<ResultsFile, { kind: 'profile' }>;

const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
/** Formats a number for a table; '–' for missing/NaN. */
export function fmt(x: number | null | undefined, digits = 0): string {
  if (!ok(x)) return '–';
  if (Math.abs(x) >= 10_000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(digits);
}
const pct = (x: number | null | undefined, digits = 1) => (ok(x) ? `${(x * 100).toFixed(digits)}%` : '–');
const mb = (x: number | null | undefined) => (ok(x) ? `${x.toFixed(0)}` : '–');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function stepByLabel(run: CellRun, label: string): WindowMetrics | undefined {
  return run.steps.find((s) => s.label === label)?.metrics;
}

/** Mean "other" CPU (cores not used by the measured processes) over every measured window. */
function contention(c: CompareResult): { mean: number; max: number; windows: number } {
  const xs: number[] = [];
  for (const r of c.modes) for (const s of r.steps) if (ok(s.metrics.machine?.otherCores)) xs.push(s.metrics.machine.otherCores);
  for (const p of c.saturation?.probes ?? []) if (ok(p.step.metrics.machine?.otherCores)) xs.push(p.step.metrics.machine.otherCores);
  return { mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN, max: xs.length ? Math.max(...xs) : Number.NaN, windows: xs.length };
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
  readonly note?: string;
}

export function targets(c: CompareResult | undefined, scale: ScaleResult | undefined, k: number): Target[] {
  const out: Target[] = [];
  if (c !== undefined) {
    const sat = c.saturation;
    const satProbe = sat?.probes.filter((p) => p.queueOk).sort((a, b) => b.rate - a.rate)[0];
    const satPlacements = satProbe?.step.metrics.placementsPerS;
    out.push({
      name: `committed placements/s at saturation, ${k} schedulers, ${c.modes[0]?.spec.nodes ?? '?'} nodes`, target: '≥ 50 000',
      measured: satProbe ? `${fmt(satPlacements)} (at ${fmt(satProbe.rate, 1)} jobs/s, the highest rate with a bounded queue)` : '–',
      met: ok(satPlacements) ? satPlacements >= 50_000 : undefined,
    });
    const lf = c.modes.find((m) => m.label === 'latency-first');
    const p99at50 = lf?.steps[0]?.metrics.delayMs.p99;
    out.push({
      name: 'p99 job delay at 50% of saturation (latency-first)', target: '≤ 50 ms', measured: ok(p99at50) ? `${fmt(p99at50)} ms` : '–',
      met: ok(p99at50) ? p99at50 <= 50 : undefined,
    });
    const lf8 = c.conflicts.find((p) => p.k === 8 && p.mode === 'latency-first');
    const ss8 = c.conflicts.find((p) => p.k === 8 && p.mode === 'state-sync');
    out.push({
      name: 'latency-first conflict fraction ≤ ½ of state-sync\'s at 80% load, 8 schedulers', target: '≤ 0.5 ×',
      measured: lf8 && ss8 ? `${pct(lf8.conflictFraction, 2)} vs ${pct(ss8.conflictFraction, 2)} (${ss8.conflictFraction > 0 ? `${(lf8.conflictFraction / ss8.conflictFraction).toFixed(2)} ×` : 'state-sync had none'})` : '–',
      met: lf8 && ss8 && ss8.conflictFraction > 0 ? lf8.conflictFraction <= 0.5 * ss8.conflictFraction : undefined,
      ...(lf8 && ss8 && ss8.conflictFraction === 0 ? { note: 'no conflicts in state-sync at this load: not decided' } : {}),
    });
  }
  if (scale !== undefined) {
    const loadedOrIdle = scale.loaded?.metrics ?? scale.idle;
    const scheds = loadedOrIdle.processes.filter((p) => p.kind === 'scheduler');
    const worst = Math.max(...scheds.map((p) => p.peakRssMb));
    const cs = loadedOrIdle.processes.find((p) => p.kind === 'cell-state');
    out.push({
      name: `scheduler RSS at ${fmt(scale.spec.nodes)} nodes (peak, worst of ${scheds.length})`, target: '≤ 300 MB', measured: `${mb(worst)} MB`,
      met: ok(worst) ? worst <= 300 : undefined,
    });
    out.push({
      name: `cell-state RSS at ${fmt(scale.spec.nodes)} nodes (peak)`, target: '≤ 1 GB', measured: `${mb(cs?.peakRssMb)} MB`,
      met: ok(cs?.peakRssMb) ? cs!.peakRssMb <= 1024 : undefined,
    });
    const p50 = scale.idle.syncMs.p50;
    out.push({
      name: `one partition sync (${fmt(scale.nodesPerPartition)} nodes), idle cell, p50`, target: '≤ 10 ms', measured: `${fmt(p50, 2)} ms (p99 ${fmt(scale.idle.syncMs.p99, 1)} ms; under load p50 ${fmt(scale.loaded?.metrics.syncMs.p50, 1)} ms)`,
      met: ok(p50) ? p50 <= 10 : undefined,
    });
  }
  return out;
}

const PLOT_PREFIX = 'bench-';

export interface Plot {
  readonly file: string;
  readonly title: string;
  readonly svg: string;
}

export async function comparePlots(r: Compare): Promise<Plot[]> {
  const c = r.compare;
  const plots: Plot[] = [];
  const sub = `${r.setup.nodes} nodes, ${r.setup.schedulers} schedulers, ${r.setup.partitions} partitions, ${r.timestamp}`;
  if (c.modes.length > 0) {
    const series = (pick: (p: CellRun['timeline'][number]) => number): Series[] => c.modes.map((m) => ({
      name: `${m.label}${m.label === 'single' ? ' (×1)' : ''}`,
      points: m.timeline.filter((p) => ok(pick(p))).map((p) => [Math.round(p.t * 10) / 10, pick(p)] as const),
    }));
    plots.push({ file: `${PLOT_PREFIX}delay-over-time.svg`, title: 'p99 job delay over time, load 50 → 80 → 95 → 80 → 50 % of saturation', svg: await lineChart({
      title: 'p99 job delay per second, load steps 50→80→95→80→50% of saturation', subtitle: sub, xLabel: 'seconds', yLabel: 'p99 delay (ms, log)', logY: true,
      series: series((p) => (p.jobsFinished > 0 ? p.delayP99Ms : Number.NaN)), markPoints: false,
    }) });
    plots.push({ file: `${PLOT_PREFIX}placements-over-time.svg`, title: 'committed placements/s over time', svg: await lineChart({
      title: 'Committed placements/s over time (same load steps)', subtitle: sub, xLabel: 'seconds', yLabel: 'placements/s', series: series((p) => p.placementsPerS), markPoints: false,
    }) });
    const labels = LOAD_PROFILE.map((f, i) => `${i + 1}: ${Math.round(f * 100)}%`);
    plots.push({ file: `${PLOT_PREFIX}modes-p99.svg`, title: 'p99 delay per mode and load step', svg: await barChart({
      title: 'p99 job delay per mode and load step', subtitle: sub, xLabel: 'load step (% of saturation)', yLabel: 'p99 delay (ms, log)', logY: true,
      series: c.modes.map((m) => ({ name: m.label, points: m.steps.map((s, i) => [labels[i] ?? s.label, s.metrics.delayMs.p99] as const) })),
    }) });
    plots.push({ file: `${PLOT_PREFIX}modes-conflicts.svg`, title: 'conflict fraction per mode and load step', svg: await barChart({
      title: 'Conflict fraction (rejected / proposed claims) per mode and load step', subtitle: sub, xLabel: 'load step (% of saturation)', yLabel: 'conflict fraction',
      series: c.modes.map((m) => ({ name: m.label, points: m.steps.map((s, i) => [labels[i] ?? s.label, s.metrics.conflictFraction] as const) })),
    }) });
  }
  if (c.conflicts.length > 0) {
    const modes = [...new Set(c.conflicts.map((p) => p.mode))];
    plots.push({ file: `${PLOT_PREFIX}conflicts-vs-k.svg`, title: 'conflict fraction vs number of schedulers', svg: await lineChart({
      title: 'Conflict fraction vs schedulers at 80% of saturation', subtitle: sub, xLabel: 'schedulers (K)', yLabel: 'conflict fraction',
      series: modes.map((m) => ({ name: m, points: c.conflicts.filter((p) => p.mode === m).sort((a, b) => a.k - b.k).map((p) => [p.k, p.conflictFraction] as const) })),
    }) });
  }
  if (c.saturation !== undefined && c.saturation.probes.length > 0) {
    const probes = [...c.saturation.probes].sort((a, b) => a.rate - b.rate);
    plots.push({ file: `${PLOT_PREFIX}saturation.svg`, title: 'saturation search: offered vs committed', svg: await lineChart({
      title: 'Saturation search: committed vs offered placements/s (latency-first)', subtitle: sub, xLabel: 'offered tasks/s', yLabel: 'placements/s',
      series: [
        { name: 'committed', points: probes.map((p) => [p.step.metrics.generator.tasks / p.step.metrics.seconds, p.step.metrics.placementsPerS] as const) },
        { name: 'offered (y = x)', points: probes.map((p) => [p.step.metrics.generator.tasks / p.step.metrics.seconds, p.step.metrics.generator.tasks / p.step.metrics.seconds] as const) },
      ],
    }) });
  }
  if (c.transport.length > 0) {
    const satProbe = c.saturation?.probes.filter((p) => p.queueOk).sort((a, b) => b.rate - a.rate)[0];
    const points: [string, number][] = c.transport.map((t) => [`bus: ${t.mode}`, t.recordsPerS]);
    if (satProbe) points.push(['end to end at saturation', satProbe.step.metrics.placementsPerS]);
    plots.push({ file: `${PLOT_PREFIX}transport.svg`, title: 'bus baseline vs end-to-end placements/s', svg: await barChart({
      title: 'Records/s the bus carries vs placements/s end to end', subtitle: sub, xLabel: '', yLabel: 'per second (log)', logY: true,
      series: [{ name: 'records or placements per second', points }],
    }) });
  }
  return plots;
}

function setupSection(s: Setup, command: string, timestamp: string, cont?: { mean: number; max: number; windows: number }): string {
  const lines = [
    `Generated by \`${command}\` at ${timestamp} (commit \`${s.commit}\`). Regenerate rather than edit.`,
    '',
    `- **Machine**: ${s.cores} cores (${s.cpuModel}), ${s.memGb} GB, Node ${s.node}, ${s.nats}; load average at start ${s.loadAvgAtStart.join(' / ')}.`,
  ];
  if (cont !== undefined && ok(cont.mean)) {
    lines.push(`- **Contention**: this machine is shared with colleagues' test runs. Over the ${cont.windows} measured windows, processes *other than* the cell, the load generator and the benchmark used on average **${cont.mean.toFixed(2)} of ${s.cores} cores** (worst window ${cont.max.toFixed(2)}), from /proc/stat minus our processes' /proc/<pid>/stat. Every figure below was taken under that contention; treat absolute throughputs as lower bounds and compare modes within this run.`);
  }
  lines.push(
    `- **Cell**: ${fmt(s.nodes)} simulated nodes (sim node agents, ≤ 10 000 per process) of ${Object.entries(s.shape).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} (the common alibaba2017 machine), ${s.partitions} partitions, ${s.schedulers} scheduler replicas unless said otherwise; nats-server, cell-state, schedulers and agents are separate processes on loopback started by @tessera/launcher.`,
    `- **Workload**: ${s.workload.replay !== undefined ? `the trace ${s.workload.replay} replayed ${s.workload.speed}× faster` : `real alibaba2017 jobs drawn by @tessera/workloads' empirical sampler (${fmt(s.workload.jobs)} jobs, mean ${fmt(s.workload.meanTasksPerJob)} tasks per job, heavy tail: p99 ≈ 11 000, max 66 632), seed \`${s.workload.seed}\`, Poisson arrivals`}; published open loop to the JetStream jobs stream by a separate load-generator process, each job stamped with its *due* time (so a lagging generator shows up as delay, not as less load). Task run times are divided by ${s.timeScale} so the cell does not fill up: each job/s offers ${pct(s.utilisationPerJobPerS, 2)} utilisation of the bottleneck resource at steady state, counting only tasks with a run time in the trace (the sim agents run the others for 60 s / ${s.timeScale}, so the real allocation is higher: see the *allocated* column).`,
    '- **Sources**: committed placements and conflict fraction (rejected / proposed claims) from cell-state\'s `tessera_commit_claims_total{outcome}`; job delay (submit → all tasks committed) from the schedulers\' `tessera_scheduler_job_delay_seconds` histograms, differenced between scrapes (every job, no extra load on cell-state; quantiles interpolated inside the buckets 5, 10, 25, 50, 100, 250, 500 ms, 1, 1.5, 2.5, 5 s…), cross-checked exactly on a sample via cell-state\'s `queryJobs` listing (`placedAt − submittedAt`); retries, staleness, sync bytes and sync time from the schedulers\' counters/histograms; the jobs-stream backlog (`num_pending + num_ack_pending` of the schedulers\' consumer) from JetStream; CPU from /proc/<pid>/stat (utime+stime) and peak RSS from /proc/<pid>/status (VmHWM).',
  );
  return lines.join('\n');
}

function modeRows(c: CompareResult): string {
  const rows: string[][] = [];
  for (const m of c.modes) {
    for (const s of m.steps) {
      const x = s.metrics;
      rows.push([
        `${m.label} ×${m.spec.schedulers}`, s.label, fmt(s.rate, 1), fmt(x.generator.tasks / x.seconds), fmt(x.placementsPerS), fmt(x.delayMs.p50), fmt(x.delayMs.p90), fmt(x.delayMs.p99),
        pct(x.conflictFraction, 2), fmt(x.retriesPerPlacement, 3), fmt(x.stalenessMs.mean), fmt(x.syncBytesPerS / 1e6, 2), `${fmt(x.backlog.end)} / ${fmt(x.taskBacklogEnd)}`, fmt(x.workLagS, 1), `${pct(x.allocatedRatio?.cpu_millis, 0)} / ${pct(x.allocatedRatio?.mem_mib, 0)}`, s.verdict.ok ? 'yes' : 'no', fmt(x.machine.otherCores, 2),
      ]);
    }
  }
  return table(['mode', 'step', 'jobs/s', 'tasks/s offered', 'placements/s', 'p50 ms', 'p90 ms', 'p99 ms', 'conflicts', 'retries/placement', 'staleness ms (mean)', 'sync MB/s', 'backlog at end (jobs / tasks)', 'work lag s', 'allocated cpu / mem', 'kept up', 'other cores'], rows);
}

function processRows(c: CompareResult): string {
  const rows: string[][] = [];
  for (const m of c.modes) {
    const x = stepByLabel(m, '95%');
    if (x === undefined) continue;
    const byKind = (k: string) => x.processes.filter((p) => p.kind === k);
    const sumCpu = (k: string) => byKind(k).reduce((a, p) => a + (ok(p.cpuCores) ? p.cpuCores : 0), 0);
    const maxRss = (k: string) => Math.max(...byKind(k).map((p) => p.peakRssMb));
    rows.push([
      `${m.label} ×${m.spec.schedulers}`, fmt(sumCpu('nats'), 2), fmt(sumCpu('cell-state'), 2), `${fmt(sumCpu('scheduler'), 2)} (${byKind('scheduler').map((p) => fmt(p.cpuCores, 2)).join(' / ')})`,
      fmt(sumCpu('node-agent'), 2), fmt(sumCpu('loadgen'), 2), fmt(x.machine.otherCores, 2),
      mb(maxRss('nats')), mb(maxRss('cell-state')), mb(maxRss('scheduler')), mb(maxRss('node-agent')),
    ]);
  }
  return table(['mode (95% step)', 'nats cores', 'cell-state cores', 'schedulers cores (each)', 'agents cores', 'load gen cores', 'others cores', 'nats peak MB', 'cell-state peak MB', 'scheduler peak MB (max)', 'agent peak MB (max)'], rows);
}

export function compareMarkdown(r: Compare, plots: readonly Plot[], plotDir: string, scale?: Scale, profile?: Profile): string {
  const c = r.compare;
  const s = r.setup;
  const cont = contention(c);
  const out: string[] = ['# tessera benchmark: the real services, every mode side by side', '', setupSection(s, r.command, r.timestamp, cont), ''];
  const img = (file: string, alt: string) => { const p = plots.find((x) => x.file === file); return p ? `![${alt}](${plotDir}${file})` : ''; };

  out.push('## Targets', '', 'Reported, not asserted.', '', table(['figure', 'target', 'measured', 'met'], targets(c, scale?.scale, s.schedulers).map((t) => [t.name, t.target, t.measured, t.met === undefined ? `? ${t.note ?? ''}`.trim() : t.met ? 'yes' : '**no**'])), '');

  if (c.transport.length > 0) {
    const satProbe = c.saturation?.probes.filter((p) => p.queueOk).sort((a, b) => b.rate - a.rate)[0];
    const e2e = satProbe?.step.metrics.placementsPerS;
    out.push('## Transport baseline', '',
      `NATS request/reply between two processes on the same machine: ${c.transport[0].recordsPerRequest} claim-shaped records of ${c.transport[0].recordBytes} bytes (msgpack) per request, ${c.transport[0].window} requests in flight, ${fmt(c.transport[0].seconds, 1)} s each. \`raw\`: the responder msgpack-decodes and acks; \`validated\`: it also validates the body against the protocol's commit-request schema (zod), as cell-state does for every commit.`, '',
      table(['variant', 'records/s', 'requests/s', 'MB/s', 'latency p50 ms', 'p99 ms'], c.transport.map((t) => [t.mode, fmt(t.recordsPerS), fmt(t.requestsPerS), fmt(t.mbPerS, 1), fmt(t.latencyMs.p50, 1), fmt(t.latencyMs.p99, 1)])), '',
      ok(e2e) ? `End to end, the cell committed **${fmt(e2e)} placements/s** at its highest bounded-queue rate: **${pct(e2e / c.transport[0].recordsPerS)}** of what the bus alone carries (raw), ${pct(e2e / (c.transport[1]?.recordsPerS ?? Number.NaN))} of the validated variant. A placement crosses the bus several times (job in, sync out, commit request and reply, assignment to the agent, task end back), so this fraction is the budget the services' own work leaves.` : '',
      img(`${PLOT_PREFIX}transport.svg`, 'bus vs end to end'), '');
  }

  if (c.saturation !== undefined) {
    const sat = c.saturation;
    out.push('## Saturation', '',
      `Doubling from ${fmt(sat.probes[0]?.rate, 1)} jobs/s, then bisection; each probe ${fmt(sat.probes[0]?.step.metrics.seconds, 0)} s measured after a warm-up, on latency-first ×${s.schedulers}. Every probe offers the same job sequence from its first job (only the rate differs), so probes differ by rate, not by which heavy-tailed jobs they happened to draw. A probe *keeps up* when the jobs-stream backlog does not grow (slope ≤ max(1 job/s, 10% of the rate), ≤ max(20 jobs, 2 s of load) left at the end), the committed work trails the offered work by ≤ ${sat.criteria.workLagSeconds ?? 3} s at the end (*work lag*: the jobs backlog counts a 60 000-task job once), the load generator stayed on schedule, and — for the brief's definition — p99 delay < ${sat.criteria.p99LimitMs} ms.`, '',
      `- **Saturation (queue bounded and p99 < ${sat.criteria.p99LimitMs} ms): ${fmt(sat.saturationRate, 2)} jobs/s** — ${sat.why}.`,
      `- **Throughput saturation (queue bounded): ${fmt(sat.throughputSaturationRate, 2)} jobs/s** — ${sat.whyThroughput}.`,
      `- The load steps below are relative to **${fmt(c.referenceRate, 2)} jobs/s**: ${c.referenceSource}.`, '',
      table(['probe', 'jobs/s', 'tasks/s offered', 'placements/s', 'p50 ms', 'p99 ms', 'conflicts', 'retries/placement', 'backlog slope jobs/s', 'backlog end (jobs / tasks)', 'work lag s', 'verdict', 'other cores'],
        sat.probes.map((p, i) => { const x = p.step.metrics; return [String(i + 1), fmt(p.rate, 2), fmt(x.generator.tasks / x.seconds), fmt(x.placementsPerS), fmt(x.delayMs.p50), fmt(x.delayMs.p99), pct(x.conflictFraction, 2), fmt(x.retriesPerPlacement, 2), fmt(x.backlog.slopePerS, 2), `${fmt(x.backlog.end)} / ${fmt(x.taskBacklogEnd)}`, fmt(x.workLagS, 1), p.ok ? 'kept up' : p.reasons.join('; '), fmt(x.machine.otherCores, 2)]; })),
      '', 'Job sizes are heavy-tailed: a probe of a few seconds holds a few dozen jobs, so its offered tasks/s depends on which big jobs fall inside the measured window. Probes are listed in the order run (several on one cell while it keeps up, a fresh cell after one that did not).',
      '', img(`${PLOT_PREFIX}saturation.svg`, 'saturation search'), '');
  }

  if (c.modes.length > 0) {
    out.push('## Modes side by side', '',
      `Each mode on a fresh cell, the same jobs in the same order (same seed), load steps ${LOAD_PROFILE.map((f) => `${Math.round(f * 100)}%`).join(' → ')} of ${fmt(c.referenceRate, 2)} jobs/s, ${fmt(c.modes[0].steps[0]?.metrics.seconds, 0)} s measured per step (after a warm-up). \`single\` is latency-first with one scheduler.`, '',
      modeRows(c), '', img(`${PLOT_PREFIX}delay-over-time.svg`, 'p99 delay over time per mode'), '', img(`${PLOT_PREFIX}placements-over-time.svg`, 'placements over time per mode'), '',
      img(`${PLOT_PREFIX}modes-p99.svg`, 'p99 per mode and step'), '', img(`${PLOT_PREFIX}modes-conflicts.svg`, 'conflicts per mode and step'), '',
      '### CPU and memory per process', '', 'Cores used on average over the 95% step (1.00 = one core busy all the time; this machine has ' + s.cores + '), peak RSS (VmHWM) in MB.', '', processRows(c), '');
    const checks = c.modes.filter((m) => m.delayCheck !== undefined);
    if (checks.length > 0) {
      const classes = checks[0].delayCheck!.byClass.map((b) => b.label);
      out.push('### Exact delays by job size (cross-check)', '',
        'One job in N sampled by the load generator; after the run, cell-state\'s job listing gives each one\'s `placedAt − submittedAt` exactly (whole run, all steps). p50 / p99 in ms, n jobs. The histogram figures above agree to bucket resolution; this table shows *which* jobs make the tail: with alibaba2017 sizes, the p99 job has ~11 000 tasks, and its delay is bounded below by its size over one replica\'s placement rate.', '',
        table(['mode', 'listed / sampled', 'all', ...classes, 'not placed when asked', 'placedAt = submittedAt (left out)'], checks.map((m) => {
          const d = m.delayCheck!;
          return [m.label, `${d.listed} / ${d.sampled}`, `${fmt(d.all.p50)} / ${fmt(d.all.p99)} (n=${d.all.n})`, ...d.byClass.map((b) => (b.delayMs.n > 0 ? `${fmt(b.delayMs.p50)} / ${fmt(b.delayMs.p99)} (n=${b.delayMs.n})` : '–')), Object.entries(d.notPlaced).map(([k, v]) => `${k} ${v}`).join(', ') || '0', String(d.unknownDelay ?? 0)];
        })), '',
        'A cell still overloaded after the run (a long backlog) answers the listing slowly; what was not listed within a few seconds is missing (`listed / sampled`). Jobs listed with `placedAt = submittedAt` are left out: cell-state read their submission from the jobs stream only after all their tasks had committed, and then stamps `placedAt` with the submit time (services/cell-state/src/core/job-table.ts `accept`), so their real delay is unknown from the listing.', '');
    }
  }

  if (c.conflicts.length > 0) {
    out.push('## Conflicts vs number of schedulers', '', `At ${fmt(c.conflicts[0].rate, 2)} jobs/s: ${c.conflictRateSource ?? '80% of the reference rate'} — conflicts need a busy cell. A fresh cell per point (unless reused from the mode runs), same jobs, same seed. State-sync with one scheduler is not run: one replica has nobody to conflict with.`, '',
      table(['K', 'mode', 'conflicts', 'retries/placement', 'placements/s', 'p99 ms', 'staleness ms (mean)', 'source'],
        [...c.conflicts].sort((a, b) => a.k - b.k || a.mode.localeCompare(b.mode)).map((p) => [String(p.k), p.mode, pct(p.conflictFraction, 2), fmt(p.retriesPerPlacement, 3), fmt(p.placementsPerS), fmt(p.delayP99Ms), fmt(p.stalenessMeanMs), p.source])),
      '', img(`${PLOT_PREFIX}conflicts-vs-k.svg`, 'conflicts vs K'), '');
  }

  if (scale !== undefined) out.push(scaleSection(scale), '');
  if (profile !== undefined) out.push(profileSection(profile), '');
  // Hand-written reading of the figures (kept in bench/ANALYSIS.md so regenerating keeps it).
  const analysis = join(REPO_ROOT, 'bench', 'ANALYSIS.md');
  if (existsSync(analysis)) out.push(readFileSync(analysis, 'utf8').trim(), '');
  if (c.skipped.length > 0 || (c.failures ?? []).length > 0) {
    out.push('## Skipped or failed in this run', '', ...c.skipped.map((x) => `- skipped: ${x}`), ...(c.failures ?? []).map((x) => `- **failed**: ${x}`), '');
  }
  out.push(`The whole \`--compare\` took ${fmt(c.seconds / 60, 1)} min. Raw numbers: \`bench/results/${r.timestamp}.json\`.`, '');
  return out.join('\n');
}

export function scaleSection(r: Scale): string {
  const x = r.scale;
  const procs = (m: WindowMetrics) => m.processes.filter((p) => p.kind !== 'bench' && p.kind !== 'loadgen');
  const loaded = x.loaded?.metrics;
  const rows = procs(x.idle).map((p) => {
    const l = loaded?.processes.find((q) => q.name === p.name);
    return [p.name, mb(p.rssMb), mb(l?.rssMb), mb(l?.peakRssMb ?? p.peakRssMb), fmt(l?.cpuCores, 2)];
  });
  return [
    `## Scale check: ${fmt(x.spec.nodes)} nodes, ${x.spec.schedulers} schedulers`, '',
    `From \`${r.command}\` at ${r.timestamp} (commit \`${r.setup.commit}\`). ${Math.ceil(x.spec.nodes / (x.spec.nodesPerAgent ?? 10_000))} sim agents of ≤ ${fmt(x.spec.nodesPerAgent ?? 10_000)} nodes, ${x.spec.partitions} partitions (${fmt(x.nodesPerPartition)} nodes each); the schedulers' sync period is set to ${x.syncPeriodMs} ms so that each sync request carries exactly one partition. The cell took ${fmt(x.startSeconds, 1)} s to start (all nodes registered) and ${fmt(x.viewsReadySeconds, 1)} s more until every scheduler's view held every node.`, '',
      `- **One-partition sync** (\`tessera_scheduler_sync_seconds\`, request → view updated), idle: p50 **${fmt(x.idle.syncMs.p50, 2)} ms**, p90 ${fmt(x.idle.syncMs.p90, 2)} ms, p99 ${fmt(x.idle.syncMs.p99, 2)} ms; ${fmt(x.idle.syncBytesPerS / 1e6, 2)} MB/s of sync replies over all schedulers.`,
    loaded ? `- **Under load** (${fmt(x.loaded!.rate, 1)} jobs/s, ${fmt(loaded.placementsPerS)} placements/s): sync p50 ${fmt(loaded.syncMs.p50, 2)} ms, p99 ${fmt(loaded.syncMs.p99, 1)} ms; job delay p50/p99 ${fmt(loaded.delayMs.p50)} / ${fmt(loaded.delayMs.p99)} ms; conflicts ${pct(loaded.conflictFraction, 2)}; other work on the machine ${fmt(loaded.machine.otherCores, 2)} cores.` : '',
    '', table(['process', 'RSS idle MB', 'RSS loaded MB', 'peak RSS MB', 'cores under load'], rows),
  ].join('\n');
}

export function profileSection(r: Profile): string {
  const x = r.profile;
  const parts = [
    '## Where the CPU goes (profile)', '',
    `From \`${r.command}\` at ${r.timestamp} (commit \`${r.setup.commit}\`): ${x.spec.mode} ×${x.spec.schedulers}, ${fmt(x.spec.nodes)} nodes, ${fmt(x.step.rate, 1)} jobs/s for ${fmt(x.step.metrics.seconds, 0)} s measured (${fmt(x.step.metrics.placementsPerS)} placements/s), every service run with \`node --cpu-prof\`; only samples taken during the measured window count (start-up and module loading excluded). Self time per function (merged over call paths), as a share of the process's busy (non-idle) samples; summarised with \`npx tsx bench/src/profile-top.ts FILE --top N\`.`, '',
  ];
  // One scheduler and one agent stand for their kind (they run the same code).
  const shown = x.profiles.filter((q) => q.service === 'cell-state' || q.service === 'scheduler-0' || q.service === 'agent-0');
  for (const p of shown.length > 0 ? shown : x.profiles) {
    const busy = p.summary.totalMs - p.summary.idleMs;
    parts.push(`### ${p.service}`, '', `${fmt(busy / 1000, 1)} s busy of ${fmt(p.summary.totalMs / 1000, 1)} s sampled; GC ${pct(p.summary.gcMs / busy)} of busy.`, '',
      table(['self %', 'function', 'where'], p.summary.top.slice(0, 12).map((t) => [pct(t.busyShare), `\`${t.functionName}\``, t.location === '' ? '(vm)' : `\`${t.location}\``])), '',
      `By package/file: ${p.summary.byModule.slice(0, 8).map((m) => `${m.module} ${pct(m.busyShare)}`).join(', ')}.`, '');
  }
  return parts.join('\n');
}

/** Writes the plots and the report for a compare results file; also docs/benchmark.md and docs/plots/ when `docs`. */
export async function writeCompareReport(r: Compare, mdPath: string, o: { docs: boolean; scale?: Scale; profile?: Profile }): Promise<string[]> {
  const plots = await comparePlots(r);
  const resultsPlotDir = mdPath.replace(/\.md$/, '');
  mkdirSync(resultsPlotDir, { recursive: true });
  for (const p of plots) await writeSvg(join(resultsPlotDir, p.file), p.svg);
  const rel = `${resultsPlotDir.split('/').pop()}/`;
  writeFileSync(mdPath, compareMarkdown(r, plots, rel, o.scale, o.profile));
  const written = [mdPath, ...plots.map((p) => join(resultsPlotDir, p.file))];
  if (o.docs) {
    const docsDir = join(REPO_ROOT, 'docs');
    mkdirSync(join(docsDir, 'plots'), { recursive: true });
    for (const p of plots) copyFileSync(join(resultsPlotDir, p.file), join(docsDir, 'plots', p.file));
    writeFileSync(join(docsDir, 'benchmark.md'), compareMarkdown(r, plots, 'plots/', o.scale, o.profile));
    written.push(join(docsDir, 'benchmark.md'));
  }
  return written;
}
