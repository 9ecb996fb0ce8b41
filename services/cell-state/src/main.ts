/**
 * cell-state: the authoritative cell state and the committer. Wiring only: flags → NATS →
 * streams → latest snapshot + replay of the commit-log tail → leader election (serve as the
 * leader, or follow the log as a standby) → metrics/health → graceful shutdown.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ResourceSpace } from '@tessera/core';
import { subjectsFor } from '@tessera/protocol';
import {
  compileConfig, ConfigError, connectNats, createLogger, credentialsOfFlag, createRegistry, ensureStreams, Lifecycle, openConfigBucket, startHttp, announceListening,
} from '@tessera/runtime';
import { cellStateFlags, type CellStateConfig } from './core/config.ts';
import { createModel, LogMismatchError, type CellModel } from './core/model.ts';
import { CommitLog } from './shell/commit-log.ts';
import { LogFollower } from './shell/follower.ts';
import { KvLease } from './shell/lease.ts';
import { Leadership } from './shell/leadership.ts';
import { createCellMetrics, createHaMetrics } from './shell/metrics.ts';
import { createQueueMetrics } from './shell/queue-metrics.ts';
import { LogIntegrityError, onLogCorruption, replayInto } from './shell/replay.ts';
import { CellStateService } from './shell/service.ts';
import { loadSnapshot, Snapshotter, SnapshotStore } from './shell/snapshots.ts';
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
  const modelOpts = { partitions: cfg.partitions, granularity: cfg.conflict };

  // A corrupted commit-log entry met anywhere (replay, catch-up, promotion, following) stops the
  // process: it is never applied, and serving on from a state that misses it would be wrong.
  onLogCorruption((e) => {
    process.stderr.write(`cell-state: ${e.message}\n`);
    process.exit(3);
  });
  const credentials = credentialsOfFlag(cfg.natsAuth);
  const nc = await connectNats(cfg.nats, `cell-state ${id}`, log, credentials);
  lifecycle.onDrain('nats', () => nc.drain());
  const jsm = await ensureStreams(nc, subjects, { replicas: cfg.replicas });
  // The config bucket too: schedulers may only read it (DESIGN §13), so its owner creates it.
  const configBucket = await openConfigBucket(nc, subjects);
  const commitLog = new CommitLog(nc, jsm, subjects.commitLogStream, subjects.commitLogSubject);
  const snapshotStore = await SnapshotStore.open(nc, subjects.snapshotBucket, { replicas: cfg.replicas });
  // The lease and the sync subject have connections of their own (lanes): under overload the main
  // socket carries megabytes of commit requests and replies, and a lease renewal queued behind them
  // timed out again and again (the leader stepped down every few seconds); syncs waited the same way.
  const leaseNc = await connectNats(cfg.nats, `cell-state ${id} lease`, log, credentials);
  lifecycle.onDrain('nats (lease)', () => leaseNc.drain());
  const syncNc = await connectNats(cfg.nats, `cell-state ${id} sync`, log, credentials);
  lifecycle.onDrain('nats (sync)', () => syncNc.drain());
  // Lease requests time out after a renewal period: one lost with its server is retried in time.
  const lease = await KvLease.open(leaseNc, subjects.leaderBucket, cfg.replicas, cfg.leaseRenewMs);

  // The latest snapshot (if usable), then the log after it: the truth, before anything else.
  const logId = await commitLog.describe();
  const loaded = cfg.snapshotRestore ? await loadSnapshot(snapshotStore, space, modelOpts, logId, log) : undefined;
  const model: CellModel = loaded?.model ?? createModel(space, modelOpts);
  let stats;
  const t0 = performance.now();
  try {
    if (model.logResources !== undefined && model.logResources.join(',') !== space.names.join(',')) {
      throw new LogMismatchError(`the commit log was written for resources ${model.logResources.join(',')}, this cell-state runs with ${space.names.join(',')}`);
    }
    stats = await replayInto(model, commitLog, logId.lastSeq, log);
  } catch (e) {
    if (e instanceof LogMismatchError || e instanceof LogIntegrityError) {
      log.fatal({ err: e }, 'refusing to start');
      process.stderr.write(`cell-state: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000 + (loaded?.seconds ?? 0);
  log.info({
    entries: stats.entries, records: stats.records, skipped: stats.skipped, anomalies: stats.anomalies, bytes: stats.bytes,
    seconds: Number(seconds.toFixed(3)), entriesPerSecond: stats.seconds > 0 ? Math.round(stats.entries / stats.seconds) : undefined,
    snapshotSeq: loaded?.seq, snapshotBytes: loaded?.bytes, snapshotSeconds: loaded ? Number(loaded.seconds.toFixed(3)) : undefined,
    lastSeq: model.lastSeq, nodes: model.cell.nodeCount, placed: model.cell.placedTaskCount, jobs: model.jobs.size,
  }, 'commit log replayed');

  const registry = createRegistry('cell-state', { cell: cfg.cell });
  const metrics = createCellMetrics(registry, model);
  createQueueMetrics(registry, model);
  const writerId = `${id}.${randomBytes(4).toString('hex')}`;
  // eslint-disable-next-line prefer-const -- assigned once below; the closures need it declared first
  let leadership: Leadership;
  const writer = new LogWriter(model, commitLog, {
    writerId, batchMs: cfg.batchMs, batchMaxTxns: cfg.batchMaxTxns, appendTimeoutMs: cfg.appendTimeoutMs, now, log, metrics,
    // `service` and `snapshotter` are built right below; the writer reports no effects before the first append.
    onEffects: (effects, source) => {
      service.onEffects(effects, source);
      snapshotter.noteAppended();
    },
    mayAppend: () => leadership.mayAppend(),
    onFenced: () => leadership.onFenced(),
  });
  // A standby until it leads.
  void writer.suspend('this cell-state is not the leader');
  const service = new CellStateService(nc, model, writer, {
    subjects, heartbeatTimeoutMs: cfg.heartbeatTimeoutMs, assignGraceMs: cfg.assignGraceMs, maxMessageBytes: cfg.maxMessageBytes, now, log, metrics,
    isLeading: () => leadership.isLeading(),
    config: configBucket,
    syncNc,
  });
  const haMetrics = createHaMetrics(registry, () => leadership.role === 'leader');
  const snapshotter = new Snapshotter(model, snapshotStore, {
    everyEntries: cfg.snapshotEveryEntries, intervalMs: cfg.snapshotIntervalMs, writerId, now, log, logCreated: logId.created,
    onWritten: (s) => haMetrics.snapshotWritten(s.copySeconds + s.encodeSeconds + s.storeSeconds, s.bytes, s.seq),
  }, loaded?.seq ?? 0);

  // Serving is the leader's work; start and stop never overlap.
  let servingChain: Promise<void> = Promise.resolve();
  const serially = (fn: () => Promise<void>) => (servingChain = servingChain.catch(() => undefined).then(fn));
  const follower = new LogFollower(nc, model, subjects.commitLogStream, log, () => snapshotter.noteAppended());
  leadership = new Leadership({
    lease, commitLog, model, writer, follower,
    serving: {
      start: () => serially(async () => {
        if (model.logResources === undefined) {
          const out = await writer.append({ t: 'cell', resources: [...space.names] });
          if (!out.ok) throw new Error(`cannot write the first commit-log record: ${out.error.message}`);
        }
        // Every node gets one heartbeat timeout from the takeover before it can be marked lost.
        service.startClocks();
        await service.loadQueues();
        service.start();
        await service.startJobIntake();
        service.republishRequeues();
        snapshotter.noteAppended();
      }),
      stop: () => serially(() => service.stop()),
    },
    beforeRelease: async () => {
      if (model.lastSeq > snapshotter.lastSeq) await snapshotter.snapshot('shutdown', true);
    },
    onRole: (role) => {
      haMetrics.roleChanged(role);
      // A leader's copy holds its writer, a standby's its follower; none while changing roles.
      snapshotter.setRole(role === 'leader' ? { kind: 'leader', hold: (fn) => writer.exclusiveAsync(fn) }
        : role === 'standby' ? { kind: 'standby', hold: (fn) => follower.hold(fn) } : { kind: 'off' });
    },
  }, { writerId, leaseMs: cfg.leaseMs, renewMs: cfg.leaseRenewMs, checkMs: cfg.standbyCheckMs, log, mono: () => performance.now(), wall: now });
  lifecycle.onDrain('cell-state', () => leadership.shutdown());
  lifecycle.onDrain('snapshots', () => {
    // Runs first: a standby's copy under way is abandoned; a leader's final one comes at the hand-over.
    if (leadership.role !== 'leader') snapshotter.setRole({ kind: 'off' });
    snapshotter.stop();
  });
  snapshotter.start();
  leadership.start();
  // Lease requests out when the connection broke are lost: read / renew again at once.
  void (async () => {
    for await (const st of nc.status()) if (st.type === 'reconnect') leadership.reconnected();
  })().catch((e: unknown) => log.warn({ err: e }, 'NATS status watch ended'));
  void (async () => {
    for await (const st of leaseNc.status()) if (st.type === 'reconnect') leadership.reconnected();
  })().catch((e: unknown) => log.warn({ err: e }, 'NATS status watch ended (lease connection)'));

  const http = await startHttp({
    port: cfg.httpPort, registry,
    health: () => ({
      ok: lifecycle.state === 'running' && (leadership.role === 'leader' ? !writer.catchingUp : leadership.role === 'standby'),
      state: lifecycle.state, role: leadership.role, leader: leadership.holder, term: leadership.leaseTerm, instance: id, writer: writerId,
      lastSeq: model.lastSeq, partitions: model.cell.partitionCount,
      nodes: model.cell.nodeCount, placedTasks: model.cell.placedTaskCount, jobs: model.jobs.size,
      queued: writer.queued, catchingUp: writer.catchingUp, lastBatch: writer.lastBatch, snapshotSeq: snapshotter.lastSeq,
      lastPromotion: leadership.lastPromotion,
    }),
  });
  lifecycle.onDrain('http', () => http.close());
  // Ready once the start-up election is decided: leading, or a live leader seen (a standby).
  const role = await leadership.settled(cfg.leaseMs + 2 * cfg.standbyCheckMs + 2_000);
  lifecycle.to('running');
  announceListening(log, { metrics: `${http.url}/metrics`, health: `${http.url}/healthz`, role, partitions: cfg.partitions, conflict: cfg.conflict, resources: space.names });
}

main().catch((e) => {
  process.stderr.write(`cell-state: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
