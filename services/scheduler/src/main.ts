/**
 * One scheduler replica: `tsx services/scheduler/src/main.ts --nats URL [--index i --count N] …`.
 * Wiring only: flags → NATS → metrics/HTTP → sync loop (view) → mode control → commit pipeline →
 * job runner; shutdown in reverse.
 */
import { subjectsFor } from '@tessera/protocol';
import { compileConfig, ConfigError, connectNats, createLogger, credentialsOfFlag, createRegistry, ensureStreams, Lifecycle, startHttp, announceListening } from '@tessera/runtime';
import { deriveConfig, schedulerFlags, type SchedulerConfig } from './config.ts';
import { BacklogWatch } from './shell/backlog.ts';
import { CommitPipeline } from './shell/commit-pipeline.ts';
import { JobRunner } from './shell/job-runner.ts';
import { createSchedulerMetrics } from './shell/metrics.ts';
import { startModeControl } from './shell/mode-control.ts';
import { QueueUsageView } from './shell/queue-usage.ts';
import { ReconnectWatch } from './shell/reconnects.ts';
import { SyncLoop } from './shell/sync-loop.ts';
import { registerViewAgeGauge } from './shell/view-age-metric.ts';

function loadConfig(): SchedulerConfig {
  try {
    return deriveConfig(compileConfig(schedulerFlags, process.argv.slice(2)));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof RangeError) {
      process.stderr.write(`scheduler: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger('scheduler', cfg.logLevel, { scheduler: cfg.id, cell: cfg.cell });
  const life = new Lifecycle(log);
  life.exitOnSignals();
  const subjects = subjectsFor(cfg.cell);

  const registry = createRegistry('scheduler', { scheduler: cfg.id });
  const metrics = createSchedulerMetrics(registry);
  metrics.setMode(cfg.mode, cfg.mode === 'adaptive' ? 'quality-first' : cfg.mode);

  const credentials = credentialsOfFlag(cfg.natsAuth);
  const nc = await connectNats(cfg.natsServers, `tessera-scheduler-${cfg.id}`, log, credentials);
  life.onDrain('nats', () => nc.drain());
  // Requests out when the client reconnects are resent at once instead of waiting out their timeout.
  const reconnects = new ReconnectWatch(nc, (n) => log.info({ reconnects: n }, 'nats reconnected; resending requests that were out'));
  life.onDrain('reconnect watch', () => reconnects.stop());
  // Syncs have a lane of their own: under overload the main connection carries megabytes of commit
  // requests and replies and the job stream; a sync reply queued behind them leaves the view stale,
  // and a stale view makes more of the conflicts that fill the connection.
  const syncNc = await connectNats(cfg.natsServers, `tessera-scheduler-${cfg.id}-sync`, log, credentials);
  life.onDrain('nats (sync)', () => syncNc.drain());
  const syncReconnects = new ReconnectWatch(syncNc, (n) => log.info({ reconnects: n }, 'nats (sync) reconnected; resending the sync request that was out'));
  life.onDrain('reconnect watch (sync)', () => syncReconnects.stop());
  const resend = { attemptTimeoutMs: cfg.attemptTimeoutMs, maxAttemptTimeoutMs: cfg.requestTimeoutMs };
  await ensureStreams(nc, subjects, { replicas: cfg.replicas });

  const queueUsage = new QueueUsageView(cfg.space, log);
  const sync = new SyncLoop({
    nc: syncNc, subjects, space: cfg.space, log, metrics, resend, reconnects: syncReconnects, queueUsage,
    settings: {
      schedulerId: cfg.id, schedulerIndex: cfg.index, schedulers: cfg.count, mode: cfg.mode, scorer: cfg.scorer, pipeline: cfg.pipeline,
      sampleSize: cfg.sampleSize, syncIntervalMs: cfg.syncMs, maxConflictRetries: cfg.maxRetries, conflictWindowMs: cfg.conflictWindowMs, maxWaitMs: cfg.maxWaitMs,
      adaptiveThresholdMs: cfg.adaptiveThresholdMs, maxClaimsPerTxn: cfg.txnClaims, seed: cfg.seed, visitOrder: cfg.visitOrder, syncTasks: cfg.preemption === 'on',
    },
  });
  registerViewAgeGauge(registry, () => sync.replica?.view);
  const publishMode = () => {
    const r = sync.replica;
    metrics.setMode(sync.configuredMode, r?.effectiveMode ?? (sync.configuredMode === 'adaptive' ? 'quality-first' : sync.configuredMode));
  };
  sync.onReplica = publishMode;
  // The adaptive mode moves with observed delays; refresh its gauge now and then.
  const modeTimer = setInterval(publishMode, 1_000);
  modeTimer.unref();
  life.onDrain('mode gauge', () => clearInterval(modeTimer));

  const control = await startModeControl({
    nc, subjects, log, metrics,
    onMode: (mode, source) => {
      if (mode !== sync.configuredMode) log.info({ from: sync.configuredMode, to: mode, source }, 'placement mode switched');
      sync.setMode(mode);
      publishMode();
    },
  });
  life.onDrain('mode control', () => control.stop());

  const pipeline = new CommitPipeline({
    nc, subjects, space: cfg.space, log, metrics,
    maxClaimsPerRequest: cfg.batchClaims, inFlight: cfg.commitsInFlight,
    timeoutMs: cfg.attemptTimeoutMs, maxTimeoutMs: cfg.requestTimeoutMs, giveUpAfterMs: cfg.commitGiveUpMs, reconnects,
  });
  const runner = new JobRunner({
    nc, subjects, space: cfg.space, log, metrics, sync, pipeline,
    schedulerId: cfg.id, concurrency: cfg.concurrency, resend, reconnects, queueOrder: cfg.queueOrder, queueUsage,
    lookaheadJobs: cfg.lookaheadJobs ?? (cfg.queueOrder === 'drf' ? 1024 : 0),
  });
  queueUsage.onChange = () => {
    // Preemption's reclaim reads the same usage (queues below their guarantee take from those above).
    const r = sync.replica;
    if (r !== undefined) r.quotaUsage = queueUsage.quotaUsage();
    runner.wake();
  };

  const http = await startHttp({
    port: cfg.httpPort,
    registry,
    health: () => ({
      ok: life.state === 'running' && sync.isReady,
      state: life.state,
      scheduler: cfg.id,
      index: cfg.index,
      count: cfg.count,
      mode: sync.configuredMode,
      effectiveMode: sync.replica?.effectiveMode,
      partitions: sync.replica?.config.partitions,
      viewNodes: sync.replica?.view.nodeCount ?? 0,
      jobsInFlight: runner.inFlight,
      commitsQueued: pipeline.queued,
    }),
  });
  life.onDrain('http', () => http.close());
  announceListening(log, { metrics: `${http.url}/metrics`, health: `${http.url}/healthz` });

  sync.start();
  life.onDrain('sync loop', () => sync.stop());
  await sync.replicaReady();
  await runner.start();
  const backlog = new BacklogWatch({ nc, subjects, metrics, log });
  await backlog.start().catch((e) => log.warn({ err: e }, 'cannot watch the jobs backlog; its gauges stay at 0'));
  life.onDrain('backlog watch', () => backlog.stop());
  // Drain order (reverse of registration): stop taking jobs and hand back unfinished ones, then
  // stop the commit pipeline, then the rest.
  life.onDrain('commit pipeline', () => pipeline.stop());
  life.onDrain('jobs', () => runner.stop());
  life.to('running');
  log.info({ mode: sync.configuredMode, index: cfg.index, count: cfg.count }, 'ready');
}

main().catch((e) => {
  process.stderr.write(`scheduler: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
