/**
 * A cell under test: the real processes started by @tessera/launcher on loopback, plus the
 * benchmark's own NATS connection (jobs-stream backlog, job listings) and its scraper.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startCell, type CellHandle, type CellOptions, type NodeShape } from '@tessera/launcher';
import { jobsListingReply, subjectsFor, type JobListing, type Subjects } from '@tessera/protocol';
import { connectionOptionsOf, request, type NatsCredentials } from '@tessera/runtime';
import { clockTicksPerSecond, readMachineCpu, readProc } from './proc.ts';
import { parsePrometheusText, type PromSample } from './prom.ts';
import type { Backlog, ProcessKind, ProcessReading, Scrape } from './scrape.ts';
import type { Loadgen } from './loadgen-client.ts';

export interface BenchCellSpec {
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly mode: string;
  readonly timeScale: number;
  readonly nodeShape: NodeShape;
  readonly nodesPerAgent?: number;
  readonly heartbeatMs?: number;
  /** Extra flags per service kind. */
  readonly extraArgs?: CellOptions['extraArgs'];
  /** Node flags per service kind (e.g. `--cpu-prof`), if the launcher supports them. */
  readonly nodeArgs?: Partial<Record<'cell-state' | 'scheduler' | 'node-agent', readonly string[]>>;
  /** NATS security (default `auth`, as `tessera up`): `off` no authentication, `tls` auth over TLS. */
  readonly security?: BenchSecurity;
  /** Machines file the agents host (nodes named and shaped as in it) instead of `nodeShape` nodes. */
  readonly machines?: string;
}

export const BENCH_SECURITY = ['off', 'auth', 'tls'] as const;
export type BenchSecurity = (typeof BENCH_SECURITY)[number];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function fetchText(url: string, timeoutMs: number): Promise<string> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

export class BenchCell {
  readonly cores = cpus().length;
  readonly ticks = clockTicksPerSecond();
  loadgen: Loadgen | undefined;
  private readonly subjects: Subjects;
  private lastSamples = new Map<string, readonly PromSample[]>();

  private constructor(
    readonly name: string,
    readonly spec: BenchCellSpec,
    readonly handle: CellHandle,
    readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly dataDir: string,
    readonly startSeconds: number,
  ) {
    this.subjects = subjectsFor(name);
  }

  static async start(name: string, spec: BenchCellSpec): Promise<BenchCell> {
    const dataDir = mkdtempSync(join(tmpdir(), `tessera-bench-${name}-`));
    const t0 = performance.now();
    const opts: CellOptions & { nodeArgs?: BenchCellSpec['nodeArgs'] } = {
      cell: name, dataDir, fresh: true, nodes: spec.nodes, schedulers: spec.schedulers, partitions: spec.partitions, mode: spec.mode,
      nodeShape: spec.nodeShape, timeScale: spec.timeScale, nodesPerAgent: spec.nodesPerAgent ?? 10_000,
      // The launcher waits for each service's "listening" line, which is logged at info.
      logLevel: 'info', stateFile: false, restart: false, readyTimeoutMs: 60_000,
      ...(spec.heartbeatMs !== undefined ? { heartbeatMs: spec.heartbeatMs } : {}),
      ...(spec.extraArgs !== undefined ? { extraArgs: spec.extraArgs } : {}),
      ...(spec.nodeArgs !== undefined ? { nodeArgs: spec.nodeArgs } : {}),
      ...(spec.machines !== undefined ? { machines: spec.machines } : {}),
      auth: spec.security !== 'off', tls: spec.security === 'tls',
    };
    let handle: CellHandle;
    try {
      handle = await startCell(opts);
    } catch (e) {
      // Keep the data folder: its logs/ say why.
      throw new Error(`cell ${name} did not start (logs in ${dataDir}/logs): ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    const nc = await connect({ ...connectionOptionsOf(handle.credentials({ role: 'admin' })), servers: handle.natsUrl, name: 'tessera bench observer' });
    const jsm = await jetstreamManager(nc);
    return new BenchCell(name, spec, handle, nc, jsm, dataDir, (performance.now() - t0) / 1000);
  }

  get natsUrl(): string {
    return this.handle.natsUrl;
  }

  /** The admin identity the benchmark's own clients use (undefined when the cell runs without auth). */
  get credentials(): NatsCredentials | undefined {
    return this.handle.credentials({ role: 'admin' });
  }

  /** Waits until every scheduler reports a full view (its partitions synced once). */
  async waitSchedulersReady(timeoutMs = 120_000): Promise<number> {
    const t0 = performance.now();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ok = await Promise.all(this.handle.services.filter((s) => s.kind === 'scheduler').map(async (s) => {
        try {
          const r = (await (await fetch(s.metricsUrl!.replace(/\/metrics$/, '/healthz'), { signal: AbortSignal.timeout(5000) })).json()) as { ok?: boolean; viewNodes?: number };
          return r.ok === true && (r.viewNodes ?? 0) >= this.spec.nodes;
        } catch {
          return false;
        }
      }));
      if (ok.every(Boolean)) return (performance.now() - t0) / 1000;
      await sleep(250);
    }
    throw new Error(`schedulers of ${this.name} did not see all ${this.spec.nodes} nodes within ${timeoutMs} ms`);
  }

  async backlog(): Promise<Backlog | undefined> {
    try {
      const ci = await this.jsm.consumers.info(this.subjects.jobsStream, this.subjects.jobsConsumer);
      return { pending: ci.num_pending, ackPending: ci.num_ack_pending };
    } catch {
      return undefined;
    }
  }

  private processList(): { name: string; kind: ProcessKind; pid: number }[] {
    const out: { name: string; kind: ProcessKind; pid: number }[] = [];
    for (const s of this.handle.services) if (s.pid !== undefined) out.push({ name: s.name, kind: s.kind, pid: s.pid });
    if (this.loadgen?.pid !== undefined) out.push({ name: 'loadgen', kind: 'loadgen', pid: this.loadgen.pid });
    out.push({ name: 'bench', kind: 'bench', pid: process.pid });
    return out;
  }

  /** One scrape of everything (metrics fetched in parallel; a service that does not answer keeps its last samples). */
  async scrape(): Promise<Scrape> {
    const services = this.handle.services;
    const failed: string[] = [];
    const fetchOne = async (name: string, url: string | undefined): Promise<readonly PromSample[]> => {
      if (url === undefined) return this.lastSamples.get(name) ?? [];
      try {
        const samples = parsePrometheusText(await fetchText(url, 5000));
        this.lastSamples.set(name, samples);
        return samples;
      } catch {
        failed.push(name);
        return this.lastSamples.get(name) ?? [];
      }
    };
    const cs = services.find((s) => s.kind === 'cell-state');
    const [cellState, schedulers, backlog] = await Promise.all([
      fetchOne('cell-state', cs?.metricsUrl),
      Promise.all(services.filter((s) => s.kind === 'scheduler').map(async (s) => ({ name: s.name, samples: await fetchOne(s.name, s.metricsUrl) }))),
      this.backlog(),
    ]);
    // /proc and the clock are read together, after the (slower) HTTP fetches.
    const processes: ProcessReading[] = this.processList().map((p) => {
      const r = readProc(p.pid);
      return r === undefined ? p : { ...p, stat: r.stat, status: r.status };
    });
    return {
      t: performance.now(), schedulers, cellState, ...(backlog !== undefined ? { backlog } : {}), processes,
      machine: readMachineCpu(), ...(this.loadgen?.stats !== undefined ? { loadgen: this.loadgen.stats } : {}), failed,
    };
  }

  /** Waits until the jobs stream is drained (nothing pending or unacked), up to `timeoutMs`. */
  async waitDrained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const b = await this.backlog();
      if (b !== undefined && b.pending === 0 && b.ackPending === 0) return true;
      await sleep(250);
    }
    return false;
  }

  /** Exact delays (placedAt − submittedAt, ms) of the given jobs from cell-state's listing, one request per batch of ids. */
  async listedDelays(batches: readonly (readonly string[])[], timeoutMs = 15_000): Promise<{ id: string; delayMs?: number; state: string }[]> {
    const out: { id: string; delayMs?: number; state: string }[] = [];
    for (const chunk of batches) {
      try {
        const r = await request(this.nc, this.subjects.queryJobs, { ids: [...chunk], limit: chunk.length, offset: 0 }, jobsListingReply, { timeoutMs });
        for (const j of r.items as JobListing[]) {
          out.push({ id: j.id, state: j.state, ...(j.placedAt !== undefined && j.submittedAt !== undefined ? { delayMs: j.placedAt - j.submittedAt } : {}) });
        }
      } catch {
        // cell-state busy or the reply too large: skip this batch (the cross-check is a sample).
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    await this.loadgen?.stop().catch(() => undefined);
    await this.nc.close().catch(() => undefined);
    await this.handle.stop();
    // TESSERA_BENCH_KEEP=1 keeps the data folder (the services' logs) for a post-mortem.
    if (process.env.TESSERA_BENCH_KEEP === '1') process.stderr.write(`kept ${this.dataDir}\n`);
    else rmSync(this.dataDir, { recursive: true, force: true });
  }
}
