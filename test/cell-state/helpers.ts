/** Shared pieces of the cell-state integration tests: start the service, a typed client, builders. */
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  assignMessage, commitReply, decodeAs, decodeRaw, encode, heartbeatReply, jobsListingReply, nodesListingReply,
  okReply, partitionsListingReply, registerReply, subjectsFor, syncReply, taskEndedReply,
  type AssignMessage, type Assignment, type Subjects, type WireClaim, type WireTransaction,
} from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';

export const RESOURCES = ['cpu_millis', 'mem_mib', 'gpu'] as const;
export const CELL_STATE = 'services/cell-state/src/main.ts';

export function cellStateArgs(nats: string, extra: readonly string[] = []): string[] {
  return ['--nats', nats, '--resources', RESOURCES.join(','), '--partitions', '4', '--log-level', 'info', ...extra];
}

export async function startCellState(ns: NatsServerHandle, extra: readonly string[] = []): Promise<ServiceProcess> {
  return startServiceProcess({ entry: CELL_STATE, args: cellStateArgs(ns.url, extra) });
}

export interface Env {
  readonly ns: NatsServerHandle;
  readonly cs: ServiceProcess;
  readonly nc: NatsConnection;
  readonly client: CellClient;
}

export async function startEnv(extra: readonly string[] = []): Promise<Env> {
  const ns = await startNatsServer();
  const cs = await startCellState(ns, extra);
  const nc = await connect({ servers: ns.url });
  return { ns, cs, nc, client: new CellClient(nc) };
}

export async function stopEnv(env: Env | undefined): Promise<void> {
  if (env === undefined) return;
  await env.nc.close().catch(() => undefined);
  await env.cs.kill('SIGKILL').catch(() => undefined);
  await env.ns.stop().catch(() => undefined);
}

export interface NodeDef {
  readonly id: string;
  readonly cpu?: number;
  readonly mem?: number;
  readonly gpu?: number;
  readonly labels?: Record<string, string>;
}

export class CellClient {
  readonly s: Subjects;
  constructor(readonly nc: NatsConnection, cell = 'default') {
    this.s = subjectsFor(cell);
  }

  register(agent: string, nodes: readonly NodeDef[]) {
    return request(this.nc, this.s.nodeRegister(agent), {
      agent,
      nodes: nodes.map((n) => ({ id: n.id, labels: n.labels ?? {}, capacity: { cpu_millis: n.cpu ?? 1000, mem_mib: n.mem ?? 1024, gpu: n.gpu ?? 0 } })),
    }, registerReply);
  }

  heartbeat(agent: string, nodes: readonly { id: string; tasks: string[] }[]) {
    return request(this.nc, this.s.nodeHeartbeat(agent), { agent, nodes }, heartbeatReply);
  }

  taskEnded(agent: string, tasks: readonly { taskId: string; nodeId: string; outcome: 'succeeded' | 'failed'; reason?: string }[]) {
    return request(this.nc, this.s.taskEnded(agent), { agent, tasks }, taskEndedReply);
  }

  sync(requests: readonly { partition: number; since: number }[], resources: readonly string[] = RESOURCES) {
    return request(this.nc, this.s.sync, { resources, requests }, syncReply);
  }

  /** Every partition since -1: the whole cell. */
  async syncAll() {
    const first = await this.sync([{ partition: 0, since: -1 }]);
    return this.sync(Array.from({ length: first.partitions }, (_, p) => ({ partition: p, since: -1 })));
  }

  async nodeVersion(id: string): Promise<number> {
    const r = await this.nodes([id]);
    if (r.items.length === 0) throw new Error(`node ${id} unknown`);
    return r.items[0].version;
  }

  commit(txns: readonly WireTransaction[], resources: readonly string[] = RESOURCES, timeoutMs = 10_000) {
    return request(this.nc, this.s.commit, { resources, txns }, commitReply, { timeoutMs });
  }

  jobOutcome(jobId: string, state: 'unschedulable' | 'failed', reason: string) {
    return request(this.nc, this.s.jobOutcome, { jobId, schedulerId: 'test', state, reason }, okReply);
  }

  jobs(ids?: string[], offset = 0, limit = 1000) {
    return request(this.nc, this.s.queryJobs, { ids, offset, limit }, jobsListingReply);
  }

  nodes(ids?: string[], offset = 0, limit = 1000) {
    return request(this.nc, this.s.queryNodes, { ids, offset, limit }, nodesListingReply);
  }

  partitions(ids?: string[]) {
    return request(this.nc, this.s.queryPartitions, { ids }, partitionsListingReply);
  }

  /** Sends raw bytes and returns the decoded reply (whatever it is). */
  async raw(subject: string, bytes: Uint8Array, timeoutMs = 5_000): Promise<unknown> {
    const m = await this.nc.request(subject, bytes, { timeout: timeoutMs });
    return decodeRaw(m.data);
  }

  async submitJob(job: Record<string, unknown>, submittedAt = Date.now()): Promise<void> {
    await jetstream(this.nc).publish(this.s.jobsSubmit(typeof job.tenant === 'string' ? job.tenant : 'default'), encode({ job, submittedAt }));
  }

  /** Collects the assignment messages published to an agent. */
  watchAssignments(agent: string): AssignmentWatch {
    return new AssignmentWatch(this.nc.subscribe(this.s.assign(agent)));
  }
}

export class AssignmentWatch {
  readonly received: Assignment[] = [];
  private waiters: (() => void)[] = [];
  constructor(private readonly sub: Subscription) {
    void (async () => {
      for await (const m of sub) {
        const d = decodeAs(m.data, assignMessage);
        if (d.ok) this.received.push(...(d.value as AssignMessage).assignments);
        for (const w of this.waiters.splice(0)) w();
      }
    })();
  }

  async waitFor(n: number, timeoutMs = 5_000): Promise<Assignment[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} assignments, got ${this.received.length}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.received;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

let txnCounter = 0;
export function txn(claims: WireClaim[], kind: 'incremental' | 'all-or-nothing' = 'incremental', id = `txn-${process.pid}-${++txnCounter}`): WireTransaction {
  return { id, schedulerId: 'test-scheduler', kind, claims };
}

export function claim(taskId: string, nodeId: string, demand: { cpu?: number; mem?: number; gpu?: number }, seenVersion = 0, jobId = taskId.split('/')[0]): WireClaim {
  return { taskId, jobId, nodeId, demand: [demand.cpu ?? 0, demand.mem ?? 0, demand.gpu ?? 0], seenVersion };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function metricsText(cs: ServiceProcess): Promise<string> {
  const r = await fetch(cs.metricsUrl!);
  return r.text();
}

/** The value of one sample line of a Prometheus text page (labels as written, in order). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** The service's /healthz answer. */
export async function healthz(cs: ServiceProcess): Promise<Record<string, unknown>> {
  const r = await fetch(`${cs.httpUrl}/healthz`);
  return (await r.json()) as Record<string, unknown>;
}

/** Every entry of the commit log, decoded (seq, writer, record kinds). */
export async function readCommitLog(nc: NatsConnection, cell = 'default'): Promise<{ seq: number; writer: string; records: { t: string; [k: string]: unknown }[] }[]> {
  const s = subjectsFor(cell);
  const js = jetstream(nc);
  const jsm = await js.jetstreamManager();
  const last = (await jsm.streams.info(s.commitLogStream)).state.last_seq;
  const out: { seq: number; writer: string; records: { t: string; [k: string]: unknown }[] }[] = [];
  if (last === 0) return out;
  const consumer = await js.consumers.get(s.commitLogStream);
  const messages = await consumer.consume();
  for await (const m of messages) {
    // Chained entries (format 2) hold the entry as a msgpack `body`.
    let e = decodeRaw(m.data) as { writer?: string; records?: { t: string }[]; body?: Uint8Array } | null;
    if (e?.body instanceof Uint8Array) e = decodeRaw(e.body) as typeof e;
    out.push({ seq: m.seq, writer: e?.writer ?? '', records: e?.records ?? [] });
    if (m.seq >= last) break;
  }
  messages.stop();
  return out;
}
