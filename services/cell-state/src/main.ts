/**
 * cell-state: the authoritative cell state and the committer. Wiring only: flags → NATS →
 * streams → replay of the commit log → serving → metrics/health → graceful shutdown.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ResourceSpace } from '@tessera/core';
import { subjectsFor } from '@tessera/protocol';
import {
  compileConfig, ConfigError, connectNats, createLogger, createRegistry, ensureStreams, Lifecycle, startHttp,
} from '@tessera/runtime';
import { cellStateFlags, type CellStateConfig } from './core/config.ts';
import { createModel, LogMismatchError } from './core/model.ts';
import { CommitLog } from './shell/commit-log.ts';
import { createCellMetrics } from './shell/metrics.ts';
import { replayInto } from './shell/replay.ts';
import { CellStateService } from './shell/service.ts';
import { LogWriter } from './shell/writer.ts';

function configOrExit(): CellStateConfig {
  try {
    const cfg = compileConfig(cellStateFlags, process.argv.slice(2));
    ResourceSpace.of(cfg.resources);
    return cfg;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof RangeError) {
      process.stderr.write(`cell-state: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

async function main(): Promise<void> {
  const cfg = configOrExit();
  const id = cfg.id ?? `cs-${hostname().replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 40)}-${process.pid}`;
  const log = createLogger('cell-state', cfg.logLevel, { cell: cfg.cell, instance: id });
  const lifecycle = new Lifecycle(log);
  lifecycle.exitOnSignals();
  const subjects = subjectsFor(cfg.cell);
  const space = ResourceSpace.of(cfg.resources);
  const now = () => Date.now();

  const nc = await connectNats(cfg.nats, `cell-state ${id}`, log);
  lifecycle.onDrain('nats', () => nc.drain());
  const jsm = await ensureStreams(nc, subjects, { replicas: cfg.replicas });
  const commitLog = new CommitLog(nc, jsm, subjects.commitLogStream, subjects.commitLogSubject);

  const model = createModel(space, { partitions: cfg.partitions, granularity: cfg.conflict });
  const registry = createRegistry('cell-state', { cell: cfg.cell });
  const metrics = createCellMetrics(registry, model);

  // Replay the whole log (the truth) before serving anything.
  const last = await commitLog.lastSequence();
  let stats;
  try {
    stats = await replayInto(model, commitLog, last, log);
  } catch (e) {
    if (e instanceof LogMismatchError) {
      log.fatal({ err: e }, 'refusing to start');
      process.stderr.write(`cell-state: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  log.info({
    entries: stats.entries, records: stats.records, skipped: stats.skipped, anomalies: stats.anomalies, bytes: stats.bytes,
    seconds: Number(stats.seconds.toFixed(3)), entriesPerSecond: stats.seconds > 0 ? Math.round(stats.entries / stats.seconds) : undefined,
    lastSeq: model.lastSeq, nodes: model.cell.nodeCount, placed: model.cell.placedTaskCount, jobs: model.jobs.size,
  }, 'commit log replayed');

  const writerId = `${id}.${randomBytes(4).toString('hex')}`;
  const writer = new LogWriter(model, commitLog, {
    writerId, batchMs: cfg.batchMs, batchMaxTxns: cfg.batchMaxTxns, appendTimeoutMs: cfg.appendTimeoutMs, now, log, metrics,
    // `service` is built right below; the writer reports no effects before the first append.
    onEffects: (effects, source) => service.onEffects(effects, source),
  });
  const service = new CellStateService(nc, model, writer, {
    subjects, heartbeatTimeoutMs: cfg.heartbeatTimeoutMs, assignGraceMs: cfg.assignGraceMs, maxMessageBytes: cfg.maxMessageBytes, now, log, metrics,
  });

  if (model.logResources === undefined) {
    const out = await writer.append({ t: 'cell', resources: [...space.names] });
    if (!out.ok) throw new Error(`cannot write the first commit-log record: ${out.error.message}`);
  }
  service.startClocks();
  service.start();
  await service.startJobIntake();
  service.republishRequeues();
  lifecycle.onDrain('writer', () => writer.close());
  lifecycle.onDrain('service', () => service.stop());

  const http = await startHttp({
    port: cfg.httpPort, registry,
    health: () => ({
      ok: lifecycle.state === 'running' && !writer.catchingUp,
      state: lifecycle.state, instance: id, lastSeq: model.lastSeq, partitions: model.cell.partitionCount,
      nodes: model.cell.nodeCount, placedTasks: model.cell.placedTaskCount, jobs: model.jobs.size,
      queued: writer.queued, catchingUp: writer.catchingUp, lastBatch: writer.lastBatch,
    }),
  });
  lifecycle.onDrain('http', () => http.close());
  lifecycle.to('running');
  log.info({ metrics: `${http.url}/metrics`, health: `${http.url}/healthz`, partitions: cfg.partitions, conflict: cfg.conflict, resources: space.names }, 'listening');
}

main().catch((e) => {
  process.stderr.write(`cell-state: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
