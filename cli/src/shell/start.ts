/**
 * `npm start` (= `tessera start`): a fresh local cell — nats-server, cell-state, 3 schedulers, a
 * 1,000-node sim agent shaped like the trace's machines — replaying a bundled real sample
 * compressed into about a minute; prints the summary and the metrics URLs, then keeps the cell
 * running until Ctrl-C.
 */
import { BUNDLED, CELL_SHAPES, type TraceFormat } from '@tessera/workloads';
import { ResourceSpace } from '@tessera/core';
import { startCell } from '@tessera/launcher';
import { formatSummary } from '../core/summary.ts';
import { CliError } from './errors.ts';
import { stopCellOnSignals } from './foreground-signals.ts';
import { loadReplayJobs, runReplay } from './replay.ts';
import { connectTo, resolveTarget, cellDirOf, type GlobalOptions } from './target.ts';
import { assertNotRunning, formatServices } from './up.ts';

export interface StartOptions {
  readonly nodes: number;
  readonly schedulers: number;
  readonly trace?: string;
  readonly durationS: number;
  readonly limit?: number;
  readonly keepRunning: boolean;
}

function shapeFor(format: TraceFormat): { cpu_millis?: number; mem_mib?: number; gpu?: number } {
  switch (format) {
    case 'alibaba2017': return CELL_SHAPES.alibaba2017;
    case 'google2011': return CELL_SHAPES.google2011;
    case 'alibaba_gpu2023': return CELL_SHAPES.alibaba_gpu2023;
    default: return {};
  }
}

export async function runStart(g: GlobalOptions, o: StartOptions, out: (s: string) => void, err: (s: string) => void): Promise<void> {
  assertNotRunning(g);
  const trace = o.trace ?? BUNDLED.alibaba2017Sample;
  const space = ResourceSpace.of(g.resources.split(','));
  const jobs = await loadReplayJobs(trace, space, o.limit === 0 ? undefined : o.limit);
  const spanS = Math.max(1, jobs[jobs.length - 1].submitS - jobs[0].submitS);
  const speed = Math.max(1, Math.round(spanS / o.durationS));
  const shape = shapeFor(jobs[0].format);
  const mem = Math.floor(shape.mem_mib ?? 131_072);

  const ref = stopCellOnSignals(err);
  const starting = ref.starting;

  err(`tessera: starting a local cell: nats-server, cell-state, ${o.schedulers} schedulers, ${o.nodes} sim nodes (${(shape.cpu_millis ?? 32_000) / 1000} cores, ${Math.round(mem / 1024)} GiB each)…`);
  const t0 = Date.now();
  const handle = ref.handle = await startCell({
    cell: g.cell, dataDir: cellDirOf(g), fresh: true, nodes: o.nodes, schedulers: o.schedulers, timeScale: speed,
    nodeShape: { cpu_millis: shape.cpu_millis, mem_mib: mem, gpu: shape.gpu }, resources: space.names,
    signal: starting.signal,
  }).catch((e: Error) => {
    throw starting.signal.aborted ? new CliError('interrupted while the cell was starting; stopped what had started', 130) : new CliError(`the cell did not start: ${e.message}`);
  });
  out(`cell "${handle.cell}" up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  out(formatServices(handle.services));
  out('');
  const tasks = jobs.reduce((n, j) => n + j.job.tasks.reduce((m, g) => m + g.count, 0), 0);
  out(`replaying the first ${jobs.length} jobs (${tasks} tasks) of ${trace}: ${Math.round(spanS)} s of trace at ${speed}×, task durations scaled alike…`);

  const target = resolveTarget(g);
  const nc = await connectTo(target).catch(async (e: unknown) => { await handle.stop(); throw e; });
  try {
    const summary = await runReplay(nc, target, jobs, {
      trace, speed, limit: o.limit, idPrefix: '', waitS: Math.max(60, o.durationS), space,
      cellMetricsUrl: handle.cellStateMetricsUrl,
      schedulerMetricsUrls: handle.services.filter((s) => s.kind === 'scheduler').flatMap((s) => (s.metricsUrl ? [s.metricsUrl] : [])),
      progress: process.stderr.isTTY === true, note: err,
    });
    out(formatSummary(summary));
  } catch (e) {
    await handle.stop();
    throw e;
  } finally {
    await nc.close().catch(() => undefined);
  }
  out('');
  out('metrics (Prometheus text):');
  for (const s of handle.services) if (s.metricsUrl) out(`  ${s.name.padEnd(14)} ${s.metricsUrl}`);
  if (!o.keepRunning) {
    await handle.stop();
    return;
  }
  out(`the cell keeps running (try: npx tessera jobs, npx tessera nodes, npx tessera status); Ctrl-C stops it`);
  await handle.stopped;
}
