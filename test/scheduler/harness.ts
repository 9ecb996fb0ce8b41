/**
 * A real cell for scheduler integration tests: nats-server, a cell-state process and scheduler
 * processes, plus the test's own NATS client to register simulated nodes (`registerRequest`, no
 * node agent), submit jobs to the stream, query listings and read metrics.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  commitReply, encode, jobsListingReply, nodesListingReply, registerReply, subjectsFor,
  type JobListing, type NodeListing, type Subjects, type WireClaim,
} from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';

export const RESOURCES = ['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli'] as const;

export interface TestCell {
  readonly nats: NatsServerHandle;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly subjects: Subjects;
  readonly cellState: ServiceProcess;
  readonly schedulers: ServiceProcess[];
  startScheduler(args?: readonly string[]): Promise<ServiceProcess>;
  /** A sim node agent of `nodes` equal nodes, resolved once they are registered; stopped with the cell. */
  startSimAgent(id: string, nodes: number, node: { cpuMillis: number; memMib: number; heartbeatMs?: number }): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** `natsConfig`: extra nats-server config lines (they override the test kit's, e.g. `max_payload`). */
export async function startTestCell(opts: { partitions?: number; cellStateArgs?: readonly string[]; natsConfig?: string } = {}): Promise<TestCell> {
  const nats = await startNatsServer(opts.natsConfig === undefined ? {} : { extraConfig: opts.natsConfig });
  const procs: ServiceProcess[] = [];
  let nc: NatsConnection | undefined;
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop(5_000).catch(() => undefined)));
    await nc?.close().catch(() => undefined);
    await nats.stop();
  };
  try {
    const cellState = await startServiceProcess({
      entry: 'services/cell-state/src/main.ts',
      args: [
        '--nats', nats.url, '--partitions', String(opts.partitions ?? 4),
        // Nodes registered by the test never heartbeat: keep them from being declared lost.
        '--heartbeat-timeout-ms', '3600000',
        ...(opts.cellStateArgs ?? []),
      ],
    });
    procs.push(cellState);
    nc = await connect({ servers: nats.url });
    const schedulers: ServiceProcess[] = [];
    const cell: TestCell = {
      nats, nc, js: jetstream(nc), subjects: subjectsFor('default'), cellState, schedulers,
      async startScheduler(args = []) {
        const p = await startServiceProcess({ entry: 'services/scheduler/src/main.ts', args: ['--nats', nats.url, ...args], readyMsg: 'ready' });
        procs.push(p);
        schedulers.push(p);
        return p;
      },
      async startSimAgent(id, count, node) {
        const p = await startServiceProcess({
          entry: 'services/node-agent/src/main.ts',
          args: ['--nats', nats.url, '--id', id, '--nodes', String(count), '--cpu-millis', String(node.cpuMillis), '--mem-mib', String(node.memMib), '--heartbeat-ms', String(node.heartbeatMs ?? 200)],
        });
        procs.push(p);
        await p.waitForLog((l) => l.msg === 'nodes registered', 10_000);
        return p;
      },
      stop,
    };
    return cell;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The scheduler's `/metrics` URL (from its `listening` line; `ready` comes after it). */
export async function metricsUrlOf(p: ServiceProcess): Promise<string> {
  const l = await p.waitForLog((x) => x.msg === 'listening', 1_000);
  return String(l.metrics);
}

export async function metricsText(p: ServiceProcess): Promise<string> {
  const res = await fetch(await metricsUrlOf(p));
  return res.text();
}

/** Sum of a metric's samples whose labels include every `labels` pair. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (Object.entries(labels).some(([k, v]) => !rest.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function metric(p: ServiceProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metricValue(await metricsText(p), name, labels);
}

export async function health(p: ServiceProcess): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = (await metricsUrlOf(p)).replace(/\/metrics$/, '/healthz');
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

export interface NodeSpec {
  readonly id: string;
  readonly cpu: number;
  readonly mem?: number;
  readonly labels?: Record<string, string>;
}

export async function registerNodes(cell: TestCell, nodes: readonly NodeSpec[], agent = 'test-agent'): Promise<void> {
  await request(cell.nc, cell.subjects.nodeRegister(agent), {
    agent,
    nodes: nodes.map((n) => ({ id: n.id, labels: n.labels ?? {}, capacity: { cpu_millis: n.cpu, mem_mib: n.mem ?? 4096 } })),
  }, registerReply);
}

export interface TaskGroupInput {
  readonly name: string;
  readonly count: number;
  readonly cpu: number;
  readonly mem?: number;
}

export function jobSpec(id: string, groups: readonly TaskGroupInput[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, tasks: groups.map((g) => ({ name: g.name, count: g.count, resources: { cpu_millis: g.cpu, mem_mib: g.mem ?? 16 } })), ...extra };
}

export async function submit(cell: TestCell, job: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<void> {
  await cell.js.publish(cell.subjects.jobsSubmit(typeof job.tenant === 'string' ? job.tenant : 'default'), encode({ job, submittedAt: Date.now(), ...extra }));
}

export async function jobs(cell: TestCell, ids: readonly string[]): Promise<JobListing[]> {
  const r = await request(cell.nc, cell.subjects.queryJobs, { ids: [...ids], limit: 10_000 }, jobsListingReply);
  return r.items;
}

export async function nodes(cell: TestCell): Promise<NodeListing[]> {
  const r = await request(cell.nc, cell.subjects.queryNodes, { limit: 10_000 }, nodesListingReply);
  return r.items;
}

/** Commits claims directly, as another scheduler would (to make a scheduler's view stale on purpose). */
export async function foreignCommit(cell: TestCell, txnId: string, claims: readonly WireClaim[]) {
  const r = await request(cell.nc, cell.subjects.commit, {
    resources: [...RESOURCES], txns: [{ id: txnId, schedulerId: 'test-foreign', kind: 'incremental', claims: [...claims] }],
  }, commitReply);
  return r.results[0];
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until every listed job is in one of `states`; returns the listings. */
export async function waitForJobs(cell: TestCell, ids: readonly string[], states: readonly string[], timeoutMs = 30_000): Promise<JobListing[]> {
  return waitUntil(`jobs ${ids.length > 5 ? `${ids.slice(0, 5).join(', ')}…` : ids.join(', ')} to be ${states.join('/')}`, async () => {
    const list = await jobs(cell, ids);
    return list.length === ids.length && list.every((j) => states.includes(j.state)) ? list : undefined;
  }, timeoutMs);
}

/** No node has more allocated than its capacity (DESIGN §5.1). */
export function assertNoOverCommit(list: readonly NodeListing[]): void {
  for (const n of list) {
    for (const [r, v] of Object.entries(n.allocated)) {
      const cap = n.capacity[r] ?? 0;
      if (v > cap + 1e-9) throw new Error(`node ${n.id} over-committed on ${r}: ${v} > ${cap}`);
    }
  }
}
