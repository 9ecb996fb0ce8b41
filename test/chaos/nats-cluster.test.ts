/**
 * The production shape of the bus on loopback: three nats-server processes clustered (JetStream
 * replicated), tessera's streams at R3 (`--replicas 3`), cell-state, a scheduler and a node agent
 * given all three URLs. Under load, the server leading the commit-log stream is killed -9; the
 * cell must keep committing, lose no acknowledged job and over-commit no node (audited from the
 * commit log with the chaos driver's audit).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { auditJobs, LoadGenerator, LogAudit, Observers, readWholeStream } from '@tessera/chaos';
import { REPO_ROOT } from '@tessera/launcher';
import { decodeAs, jobsListingReply, jobSubmission, subjectsFor } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { freePort, startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { BUNDLED, jobSizeDistribution, loadTrace, type JobSizeDistribution } from '@tessera/workloads';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The `cluster { … }` block of deploy/nats/nats-2.9/nats-<i+1>.conf (the production config for
 * Debian's 2.9.10), moved to loopback: `nats-N:6222` → 127.0.0.1 and a free route port each.
 */
function loopbackClusterBlock(i: number, routePorts: readonly number[]): string {
  const text = readFileSync(join(REPO_ROOT, `deploy/nats/nats-2.9/nats-${i + 1}.conf`), 'utf8')
    .split('\n').map((l) => l.replace(/#.*$/, '')).join('\n');
  const start = text.indexOf('cluster {');
  if (start < 0) throw new Error('no cluster block in the deploy config');
  let depth = 0;
  let end = start;
  for (; end < text.length; end++) {
    if (text[end] === '{') depth++;
    else if (text[end] === '}' && --depth === 0) break;
  }
  // The routes' mutual TLS names /etc/tessera certificates (`tessera auth init`): dropped on
  // loopback, where the servers run without them (deploy.test.ts checks the full config with -t).
  return text.slice(start, end + 1)
    .replace(/\n\s*tls \{[^}]*\}/, '')
    .replace(/listen: 0\.0\.0\.0:6222/, `listen: 127.0.0.1:${routePorts[i]}`)
    .replace(/nats-route:\/\/nats-(\d):6222/g, (_m, n: string) => `nats-route://127.0.0.1:${routePorts[Number(n) - 1]}`);
}
const s = subjectsFor('default');

async function eventually<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${String(last)}` : ''}`);
}

describe('a 3-server NATS cluster with R3 streams', () => {
  const servers: NatsServerHandle[] = [];
  const names = ['n1', 'n2', 'n3'];
  const procs: ServiceProcess[] = [];
  let nc: NatsConnection | undefined;
  let urls = '';
  let dist: JobSizeDistribution;

  beforeAll(async () => {
    const routes = await Promise.all(names.map(() => freePort()));
    for (let i = 0; i < 3; i++) {
      servers.push(await startNatsServer({ serverName: names[i], extraConfig: loopbackClusterBlock(i, routes) }));
    }
    urls = servers.map((x) => x.url).join(',');
    nc = await connect({ servers: servers.map((x) => x.url), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    // JetStream answers once the three servers elected a meta leader.
    await eventually('a JetStream meta leader', 60_000, () => jetstreamManager(nc!, { timeout: 2_000 }));
    dist = jobSizeDistribution((await loadTrace(BUNDLED.alibaba2017Jobs)).jobs);
  }, 120_000);

  afterAll(async () => {
    await nc?.close().catch(() => undefined);
    for (const p of procs.reverse()) await p.stop(5_000).catch(() => undefined);
    for (const x of servers) await x.stop().catch(() => undefined);
  });

  it('runs the cluster block of the deploy config', () => {
    expect(loopbackClusterBlock(0, [1, 2, 3])).toMatch(/name: tessera[\s\S]*listen: 127\.0\.0\.1:1[\s\S]*127\.0\.0\.1:2[\s\S]*127\.0\.0\.1:3/);
  });

  it('keeps committing through a kill -9 of the commit-log leader, losing and over-committing nothing', async () => {
    const common = ['--nats', urls, '--partitions', '4', '--log-level', 'info'];
    procs.push(await startServiceProcess({ entry: 'services/cell-state/src/main.ts', args: [...common, '--replicas', '3'], readyTimeoutMs: 90_000 }));
    procs.push(await startServiceProcess({ entry: 'services/scheduler/src/main.ts', args: ['--nats', urls, '--replicas', '3', '--log-level', 'info'], readyTimeoutMs: 90_000 }));
    procs.push(await startServiceProcess({
      entry: 'services/node-agent/src/main.ts', readyTimeoutMs: 90_000,
      args: ['--nats', urls, '--id', 'agent-0', '--nodes', '8', '--cpu-millis', '64000', '--mem-mib', '180000', '--heartbeat-ms', '1000', '--log-level', 'info'],
    }));
    const jsm = await jetstreamManager(nc!);
    const info = await jsm.streams.info(s.commitLogStream);
    expect(info.config.num_replicas).toBe(3);
    expect((await jsm.streams.info(s.jobsStream)).config.num_replicas).toBe(3);

    const observers = new Observers(nc!, s, 1_000);
    observers.start();
    // About a third of 8 nodes × 64 cores busy with short alibaba2017 jobs.
    const load = new LoadGenerator(nc!, s, dist, { ratePerS: 1.5, seed: 'cluster', idPrefix: 'r3-', workload: { maxTasksPerJob: 20, durationDivisor: 10, minDurationS: 0.5, maxDurationS: 4, defaultDurationS: 2 } });
    load.start();
    try {
      await eventually('commits before the kill', 60_000, async () => observers.liveCommits.length >= 10);
      const leader = (await jsm.streams.info(s.commitLogStream)).cluster?.leader;
      const victim = servers[names.indexOf(leader ?? 'n1')];
      const killAt = Date.now();
      await victim.kill('SIGKILL');
      // Commits continue: some stored commit after the kill, seen on the bus.
      // Commits continue: five more after the kill (a commit already in flight when the server
      // died does not count). Requests lost with the server wait out their timeout (10 s) first.
      const after = (ms: number) => observers.liveCommits.filter((t) => t > killAt + ms);
      await eventually('commits after the kill', 90_000, async () => after(500).length >= 5);
      console.info(`killed ${names[servers.indexOf(victim)]} (leader of the commit log); commits again ${((after(500)[0] - killAt) / 1000).toFixed(2)} s later`);
    } finally {
      await load.stop();
      observers.stop();
    }

    const ids = [...load.acked.keys()];
    expect(ids.length).toBeGreaterThan(10);
    // Every acknowledged job ends (short tasks), listed by cell-state.
    await eventually('every acknowledged job ended', 120_000, async () => {
      const r = await request(nc!, s.queryJobs, { ids, offset: 0, limit: ids.length }, jobsListingReply, { timeoutMs: 5_000 });
      return r.items.length === ids.length && r.items.every((j) => ['finished', 'failed', 'unschedulable'].includes(j.state));
    });

    const audit = new LogAudit({ partitions: 4 });
    await readWholeStream(nc!, s.commitLogStream, (seq, data) => audit.applyBytes(seq, data));
    const inStream = new Set<string>();
    await readWholeStream(nc!, s.jobsStream, (_seq, data) => {
      const d = decodeAs(data, jobSubmission);
      if (d.ok && d.value.attempt === undefined) inStream.add(String(d.value.job.id));
    });
    const jobs = auditJobs(audit.state, ids, inStream);
    expect(jobs.lost).toEqual([]);
    expect(audit.overcommits).toEqual([]);
    expect(audit.duplicates).toEqual([]);
    expect(audit.unreadable).toEqual([]);
    expect(audit.transactions).toBeGreaterThan(0);
    console.info(`${ids.length} jobs acknowledged, ${audit.transactions} transactions committed, ${audit.writers.length} writers, 0 lost / duplicates / over-commits`);
  }, 300_000);
});
