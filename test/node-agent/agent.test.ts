/**
 * The node agent as a real process against real NATS, with a stand-in cell (fake-cell.ts):
 * batching, assignments (own / foreign / malformed), missing and stop handling, re-registration,
 * report retries, heartbeat liveness when heartbeats are lost, and the exec driver running real
 * processes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { nodeTsArgs, REPO_ROOT, Supervised } from '@tessera/launcher';
import { encode, subjectsFor, type Assignment, type Subjects } from '@tessera/protocol';
import { connectNats, createLogger } from '@tessera/runtime';
import { startNatsServer, type NatsServerHandle } from '@tessera/testkit';
import { FakeCell, waitFor } from './fake-cell.ts';

let nats: NatsServerHandle;
let nc: NatsConnection;
let dir: string;
const started: Supervised[] = [];

async function startAgent(cell: string, args: string[]): Promise<Supervised> {
  const name = `agent-${started.length}`;
  const s = new Supervised({
    name, kind: 'node-agent', cwd: REPO_ROOT, logFile: join(dir, `${name}.log`), restart: false,
    readiness: { kind: 'listening-line' }, readyTimeoutMs: 30_000,
    launch: () => ({ command: process.execPath, args: nodeTsArgs('services/node-agent/src/main.ts', ['--nats', nats.url, '--cell', cell, '--heartbeat-ms', '200', ...args]) }),
  });
  started.push(s);
  await s.start();
  return s;
}

const asg = (taskId: string, nodeId: string, extra: Partial<Assignment> = {}): Assignment => ({ taskId, jobId: taskId.split('/')[0], nodeId, resources: { cpu_millis: 100 }, ...extra });
const publishAssign = (s: Subjects, agent: string, assignments: Assignment[]) => nc.publish(s.assign(agent), encode({ assignments }));

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectNats(nats.url, 'agent-test', createLogger('test', 'silent'));
  dir = mkdtempSync(join(tmpdir(), 'tessera-agent-test-'));
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await nc?.close();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('sim driver', () => {
  const s = subjectsFor('agentsim');
  let cell: FakeCell;
  let agent: Supervised;

  beforeAll(async () => {
    cell = new FakeCell(nc, s);
    agent = await startAgent('agentsim', ['--id', 'sim-a', '--nodes', '2500', '--node-prefix', 'n-', '--zones', 'a,b,c', '--cpu-millis', '8000', '--mem-mib', '16384']);
    await waitFor('registration', () => cell.registers.reduce((n, r) => n + r.nodes.length, 0) >= 2500);
    await waitFor('a full heartbeat round', () => cell.heartbeats.length >= 3);
  });

  it('registers its nodes in batches of at most 1000, with capacity and zone/rack labels', () => {
    expect(cell.registers.map((r) => r.nodes.length)).toEqual([1000, 1000, 500]);
    const all = cell.registers.flatMap((r) => r.nodes);
    expect(new Set(all.map((n) => n.id)).size).toBe(2500);
    expect(all[0]).toEqual({ id: 'n-000000', labels: { zone: 'a', rack: 'r0' }, capacity: { cpu_millis: 8000, mem_mib: 16384, gpu: 0 } });
    expect(new Set(all.map((n) => n.labels.zone))).toEqual(new Set(['a', 'b', 'c']));
    expect(cell.registers.every((r) => r.agent === 'sim-a')).toBe(true);
  });

  it('heartbeats every node in batches of at most 1000', () => {
    expect(Math.max(...cell.heartbeats.map((h) => h.nodes.length))).toBeLessThanOrEqual(1000);
    const ids = new Set(cell.heartbeats.slice(0, 3).flatMap((h) => h.nodes.map((n) => n.id)));
    expect(ids.size).toBe(2500);
  });

  it('runs an assignment for its own node for durationS and reports its end once', async () => {
    publishAssign(s, 'sim-a', [asg('j1/t/0', 'n-000007', { durationS: 0.5 })]);
    await waitFor('the task in a heartbeat', () => cell.lastReported('n-000007')?.includes('j1/t/0'));
    const ends = await waitFor('the task end', () => cell.endsOf('j1/t/0').length > 0 && cell.endsOf('j1/t/0'));
    expect(ends).toEqual([{ taskId: 'j1/t/0', nodeId: 'n-000007', outcome: 'succeeded', exitCode: 0 }]);
    await waitFor('the task gone from heartbeats', () => cell.lastReported('n-000007')?.length === 0);
  });

  it('refuses assignments for someone else\'s node and malformed messages, and keeps serving', async () => {
    publishAssign(s, 'sim-a', [asg('j2/t/0', 'not-mine', { durationS: 0.1 })]);
    nc.publish(s.assign('sim-a'), new Uint8Array([0xc1, 0xff, 0x00]));
    nc.publish(s.assign('sim-a'), encode({ assignments: [{ taskId: 'x' }] }));
    nc.publish(s.assign('sim-a'), encode({ assignments: [] }));
    publishAssign(s, 'sim-a', [asg('j3/t/0', 'n-000001', { durationS: 0.1 })]);
    await waitFor('the valid task after the bad ones', () => cell.endsOf('j3/t/0').length === 1);
    expect(cell.endsOf('j2/t/0')).toEqual([]);
    expect(cell.heartbeats.some((h) => h.nodes.some((n) => n.id === 'not-mine'))).toBe(false);
    const log = readFileSync(agent.opts.logFile, 'utf8');
    expect(log).toMatch(/"reason":"not_my_node","count":1,"examples":\["j2\/t\/0@not-mine"\].*refused an assignment/);
    expect(log).toMatch(/refused an assign message/);
    expect(agent.state).toBe('running');
  });

  it('runs a missing assignment once, however often the cell lists it', async () => {
    const a = asg('j4/t/0', 'n-000002', { durationS: 1.5 });
    cell.stickyMissing = [a];
    publishAssign(s, 'sim-a', [a]); // the same task through the assign subject too
    await waitFor('the task end', () => cell.endsOf('j4/t/0').length > 0, 20_000);
    // Still listed as missing after its end was acknowledged: within the grace period it is not re-run.
    await new Promise((r) => setTimeout(r, 800));
    cell.stickyMissing = [];
    expect(cell.endsOf('j4/t/0')).toHaveLength(1);
    const running = cell.heartbeats.flatMap((h) => h.nodes).filter((n) => n.id === 'n-000002').map((n) => n.tasks.filter((t) => t === 'j4/t/0').length);
    expect(Math.max(...running)).toBe(1);
  });

  it('stops a task the cell says to stop, without reporting an end', async () => {
    publishAssign(s, 'sim-a', [asg('j5/t/0', 'n-000003', { durationS: 3600 })]);
    await waitFor('the task running', () => cell.lastReported('n-000003')?.includes('j5/t/0'));
    cell.stopTasks = ['j5/t/0'];
    await waitFor('the task stopped', () => cell.stopTasks.length === 0 && cell.lastReported('n-000003')?.length === 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(cell.endsOf('j5/t/0')).toEqual([]);
  });

  it('registers again the nodes the cell reports unknown', async () => {
    const before = cell.registers.length;
    cell.unknownNodes = ['n-000004', 'n-002400', 'foreign'];
    const again = () => cell.registers.slice(before).flatMap((r) => r.nodes.map((n) => n.id)).sort();
    await waitFor('re-registration', () => again().length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(again()).toEqual(['n-000004', 'n-002400']);
  });

  it('keeps task-end reports until the cell accepts them', async () => {
    cell.failTaskEnds = 3;
    publishAssign(s, 'sim-a', [asg('j6/t/0', 'n-000005', { durationS: 0.1 })]);
    await waitFor('the report after retries', () => cell.endsOf('j6/t/0').length === 1, 20_000);
    expect(cell.failTaskEnds).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(cell.endsOf('j6/t/0')).toHaveLength(1);
  });

  it('delivers a task end that happened while NATS was down, once, after it comes back', async () => {
    publishAssign(s, 'sim-a', [asg('j7/t/0', 'n-000006', { durationS: 1 })]);
    await waitFor('the task running', () => cell.lastReported('n-000006')?.includes('j7/t/0'));
    await nats.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500)); // the task ends meanwhile
    await nats.restart();
    const restartedAt = Date.now();
    await waitFor('the report after the outage', () => cell.endsOf('j7/t/0').length > 0, 30_000);
    // A report out during the outage is abandoned on reconnect and sent again at once, not after its 10 s timeout.
    expect(Date.now() - restartedAt).toBeLessThan(8_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(cell.endsOf('j7/t/0')).toEqual([{ taskId: 'j7/t/0', nodeId: 'n-000006', outcome: 'succeeded', exitCode: 0 }]);
    expect(agent.state).toBe('running');
  }, 60_000);

  it('serves /metrics and /healthz', async () => {
    const url = agent.info().metricsUrl!;
    const text = await (await fetch(url)).text();
    expect(text).toMatch(/^tessera_agent_nodes\{[^}]*\} 2500$/m);
    expect(text).toMatch(/^tessera_agent_tasks_running\{/m);
    expect(text).toMatch(/^tessera_agent_tasks_total\{[^}]*outcome="succeeded"[^}]*\} \d+/m);
    expect(text).toMatch(/^tessera_agent_assignments_refused_total\{[^}]*reason="not_my_node"/m);
    const health = await (await fetch(url.replace('/metrics', '/healthz'))).json() as { ok: boolean; nodes: number };
    expect(health).toMatchObject({ ok: true, nodes: 2500 });
  });
});

describe('heartbeat liveness (a heartbeat lost in flight must not silence the agent for a liveness window)', () => {
  const s = subjectsFor('agentlive');
  let cell: FakeCell;
  let agent: Supervised;

  beforeAll(async () => {
    cell = new FakeCell(nc, s);
    agent = await startAgent('agentlive', ['--id', 'live-a', '--nodes', '3', '--node-prefix', 'lv-', '--heartbeat-ms', '500']);
    await waitFor('heartbeats', () => cell.heartbeats.length >= 2);
  });

  it('abandons an unanswered heartbeat after one period and sends the next on schedule (not after 10 s)', async () => {
    cell.dropHeartbeats = 1;
    await waitFor('the dropped heartbeat', () => cell.droppedHeartbeats.length === 1);
    const i = cell.droppedHeartbeats[0];
    await waitFor('the next heartbeat', () => cell.heartbeats.length > i + 1, 15_000);
    const gap = cell.heartbeatAt[i + 1] - cell.heartbeatAt[i];
    // One period of timeout (500 ms) and the next tick; the old agent waited out its 10 s request timeout.
    expect(gap).toBeLessThan(3_000);
    const log = readFileSync(agent.opts.logFile, 'utf8');
    expect(log).toMatch(/"timeoutMs":500.*heartbeat failed; abandoned/);
  });

  it('keeps every node heartbeating through a run of lost heartbeats: no gap of a liveness window', async () => {
    const from = cell.heartbeats.length;
    cell.dropHeartbeats = 4;
    await waitFor('four dropped and two answered after', () => cell.dropHeartbeats === 0 && cell.heartbeats.length >= from + 6, 20_000);
    const at = cell.heartbeatAt.slice(from);
    const gaps = at.slice(1).map((t, k) => t - at[k]);
    expect(Math.max(...gaps)).toBeLessThan(3_000);
  });

  it('heartbeats at once when NATS reconnects (and goes on heartbeating)', async () => {
    await nats.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const before = cell.heartbeats.length;
    await nats.restart();
    await waitFor('heartbeats after the restart', () => cell.heartbeats.length >= before + 2, 20_000);
    const log = readFileSync(agent.opts.logFile, 'utf8');
    expect(log).toMatch(/nats reconnected; heartbeating at once/);
    expect(agent.state).toBe('running');
  }, 40_000);
});

describe('exec driver', () => {
  const s = subjectsFor('agentexec');
  let cell: FakeCell;
  let dataDir: string;

  beforeAll(async () => {
    cell = new FakeCell(nc, s);
    dataDir = join(dir, 'exec-data');
    await startAgent('agentexec', ['--id', 'exec-a', '--driver', 'exec', '--nodes', '1', '--node-prefix', 'host-', '--data-dir', dataDir]);
    await waitFor('registration', () => cell.registers.length > 0);
  });

  it('runs sh -c \'exit 3\' for real and reports exit code 3, with its output in the task log', async () => {
    publishAssign(s, 'exec-a', [asg('e1/t/0', 'host-000000', { command: ['sh', '-c', 'echo hello from the task; echo oops >&2; exit 3'] })]);
    const [end] = await waitFor('the exit', () => cell.endsOf('e1/t/0').length > 0 && cell.endsOf('e1/t/0'));
    expect(end).toMatchObject({ taskId: 'e1/t/0', nodeId: 'host-000000', outcome: 'failed', exitCode: 3 });
    const log = readFileSync(join(dataDir, 'logs', 'e1%2Ft%2F0.log'), 'utf8');
    expect(log).toContain('hello from the task');
    expect(log).toContain('oops');
  });

  it('reports exit code 0 as succeeded and a missing binary as failed', async () => {
    publishAssign(s, 'exec-a', [
      asg('e2/t/0', 'host-000000', { command: ['true'] }),
      asg('e3/t/0', 'host-000000', { command: ['/nonexistent/binary'] }),
      asg('e4/t/0', 'host-000000', {}),
    ]);
    await waitFor('three ends', () => ['e2/t/0', 'e3/t/0', 'e4/t/0'].every((t) => cell.endsOf(t).length === 1));
    expect(cell.endsOf('e2/t/0')[0]).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    expect(cell.endsOf('e3/t/0')[0]).toMatchObject({ outcome: 'failed', exitCode: 127 });
    expect(cell.endsOf('e4/t/0')[0]).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('no command') });
  });

  it('tells a task its GPU devices in CUDA_VISIBLE_DEVICES', async () => {
    publishAssign(s, 'exec-a', [asg('g1/t/0', 'host-000000', { resources: { gpu: 2, gpu_milli: 2000 }, devices: [3, 1], command: ['sh', '-c', 'echo "cuda=$CUDA_VISIBLE_DEVICES"'] })]);
    await waitFor('the exit', () => cell.endsOf('g1/t/0').length > 0);
    expect(readFileSync(join(dataDir, 'logs', 'g1%2Ft%2F0.log'), 'utf8')).toContain('cuda=3,1');
  });

  it('kills a running process the cell says to stop', async () => {
    publishAssign(s, 'exec-a', [asg('e5/t/0', 'host-000000', { command: ['sleep', '600'] })]);
    await waitFor('running', () => cell.lastReported('host-000000')?.includes('e5/t/0'));
    cell.stopTasks = ['e5/t/0'];
    await waitFor('stopped', () => cell.stopTasks.length === 0 && cell.lastReported('host-000000')?.length === 0);
    expect(cell.endsOf('e5/t/0')).toEqual([]);
  });
});
