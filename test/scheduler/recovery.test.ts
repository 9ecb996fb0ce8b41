/**
 * How fast a scheduler recovers from what a NATS restart or a cell-state takeover does to it,
 * against a stand-in cell (standin-cell.ts) over a real nats-server:
 * - a commit request lost in flight is resent after the short attempt timeout (not the old 10 s
 *   request timeout), with the same transaction ids;
 * - a commit request out when NATS restarts is resent as soon as the client reconnects;
 * - a sync request lost in flight does not stall the view;
 * - claims refused as node_gone for a few seconds (nodes re-registering) do not give the job up:
 *   the job's stale partitions are fetched again and it is placed once the cell is back.
 * Timings are checked against generous bounds (the machine is shared), each far below what the
 * old behaviour took.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, subjectsFor } from '@tessera/protocol';
import { connectNats, createLogger } from '@tessera/runtime';
import { startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from './harness.ts';
import { StandInCell } from './standin-cell.ts';

const subjects = subjectsFor('default');
let nats: NatsServerHandle;
let nc: NatsConnection;
let js: JetStreamClient;
let cell: StandInCell;
let scheduler: ServiceProcess | undefined;
let seq = 0;

async function startScheduler(args: readonly string[]): Promise<ServiceProcess> {
  scheduler = await startServiceProcess({
    entry: 'services/scheduler/src/main.ts', readyMsg: 'ready',
    args: ['--nats', nats.url, '--id', `rec-${++seq}`, '--sync-ms', '200', ...args],
  });
  return scheduler;
}

async function submit(id: string, count: number): Promise<void> {
  const job = { id, tasks: [{ name: 'w', count, resources: { cpu_millis: 100, mem_mib: 16 } }] };
  await js.publish(subjects.jobsSubmit('default'), encode({ job, submittedAt: Date.now() }));
}

/** Commit requests that carried a transaction of `jobId` (ids are `scheduler:job…:attempt:chunk`). */
function commitsOf(jobId: string) {
  return cell.commits.filter((c) => c.req.txns.some((t) => t.id.includes(`:${jobId}`)));
}

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats(nats.url, 'recovery-test', createLogger('test', 'silent'));
  js = jetstream(nc);
  cell = new StandInCell(nc, subjects, 4);
  cell.addNodes(8, 4000);
});

afterEach(async () => {
  await scheduler?.stop(5_000).catch(() => undefined);
  scheduler = undefined;
});

afterAll(async () => {
  cell?.stop();
  await nc?.close().catch(() => undefined);
  await nats?.stop();
});

describe('scheduler recovery', () => {
  it('resends a commit request lost in flight after the attempt timeout, with the same transaction ids', async () => {
    await startScheduler(['--attempt-timeout-ms', '1000']);
    cell.swallowCommits = 1;
    await submit('lost-commit', 4);
    await waitUntil('the job placed', async () => cell.placedTasks('lost-commit', 'w', 4) === 4, 30_000);
    const [lost, resent] = commitsOf('lost-commit');
    expect(lost.answered).toBe(false);
    expect(resent.answered).toBe(true);
    expect(resent.req.txns.map((t) => t.id)).toEqual(lost.req.txns.map((t) => t.id));
    const gap = resent.at - lost.at;
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(6_000); // one 1 s attempt; the old scheduler waited out 10 s
    expect(await metricOf(scheduler!, 'tessera_scheduler_commit_resends_total', 'cause="timeout"')).toBeGreaterThanOrEqual(1);
  });

  it('resends a commit request that was out when NATS restarted as soon as the client reconnects', async () => {
    // Attempt timeouts far longer than the test: only the reconnect can explain a prompt resend.
    await startScheduler(['--attempt-timeout-ms', '60000', '--request-timeout-ms', '60000']);
    cell.swallowCommits = 1;
    await submit('reconnect-commit', 4);
    await waitUntil('the commit request out', async () => commitsOf('reconnect-commit').length === 1, 30_000);
    await nats.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await nats.restart();
    const restartedAt = Date.now();
    await waitUntil('the job placed', async () => cell.placedTasks('reconnect-commit', 'w', 4) === 4, 40_000);
    const answered = commitsOf('reconnect-commit').find((c) => c.answered)!;
    expect(answered.req.txns.map((t) => t.id)).toEqual(commitsOf('reconnect-commit')[0].req.txns.map((t) => t.id));
    expect(answered.at - restartedAt).toBeLessThan(10_000);
    expect(scheduler!.logs().some((l) => l.msg?.startsWith('nats reconnected'))).toBe(true);
  }, 90_000);

  it('does not let a sync request lost in flight stall the view', async () => {
    await startScheduler(['--attempt-timeout-ms', '1000']);
    await waitUntil('syncing', async () => cell.syncs.length > 0);
    const from = cell.syncs.length;
    cell.swallowSyncs = 1;
    await waitUntil('a lost sync and two answered after it', async () => cell.syncs.length >= from + 3 && cell.swallowSyncs === 0, 20_000);
    const lost = cell.syncs.slice(from).findIndex((x) => !x.answered) + from;
    const gap = cell.syncs[lost + 1].at - cell.syncs[lost].at;
    expect(gap).toBeLessThan(6_000); // the old loop waited out the 10 s request timeout
  });

  it('a burst of node_gone refusals right after a hiccup does not give the job up; stale partitions are fetched again before retrying', async () => {
    await startScheduler(['--attempt-timeout-ms', '1000']);
    await waitUntil('bootstrapped', async () => scheduler!.logs().some((l) => l.msg === 'view bootstrapped'));
    const t0 = Date.now();
    cell.refuseNodeGoneUntil = t0 + 3_000;
    await submit('hiccup', 4);
    await waitUntil('the job placed', async () => cell.placedTasks('hiccup', 'w', 4) === 4, 40_000);
    const placedAt = Date.now();
    expect(cell.outcomes.filter((o) => o.jobId.startsWith('hiccup'))).toEqual([]);
    const refused = commitsOf('hiccup').filter((c) => c.at < cell.refuseNodeGoneUntil);
    expect(refused.length).toBeGreaterThan(DEFAULT_MAX_RETRIES); // the count alone would have given it up
    expect(refused.length).toBeLessThan(40); // backoff grew: a few retries, not a storm
    expect(placedAt - t0).toBeLessThan(25_000);
    // node_gone with no node state: the partitions are fetched again as snapshots (since −1) in between.
    const refreshes = cell.syncs.filter((x) => x.at > refused[0].at && x.req.requests.some((q) => q.since === -1));
    expect(refreshes.length).toBeGreaterThan(0);
    expect(await metricOf(scheduler!, 'tessera_scheduler_view_refreshes_total')).toBeGreaterThan(0);
  });
});

const DEFAULT_MAX_RETRIES = 5;

async function metricOf(p: ServiceProcess, name: string, labels = ''): Promise<number> {
  const l = await p.waitForLog((x) => x.msg === 'listening', 1_000);
  const text = await (await fetch(String(l.metrics))).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
