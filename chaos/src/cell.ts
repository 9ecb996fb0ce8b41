/**
 * The chaos cell: nats-server, C cell-states, K schedulers and sim node agents as separate
 * processes, built from @tessera/launcher's pieces (`planCell`, `Supervised`, the nats config).
 * Unlike `startCell`, nothing restarts by itself (`restart: false`): the chaos driver kills and
 * restarts processes on its own schedule, so every down time is the one it chose and measured.
 * Cell-state instance i runs with `--id cs-i`.
 */
import { join, relative } from 'node:path';
import {
  agentIdsOf, commonArgs, freePort, identityOfService, natsServerBinary, nodeTsArgs, planCell, prepareCellAuth, REPO_ROOT, Supervised, writeNatsConfig,
  type CellAuth, type NodeShape, type PlannedService, type ServiceKind,
} from '@tessera/launcher';
import { nodesListingReply, subjectsFor } from '@tessera/protocol';
import { request, type NatsConnection } from '@tessera/runtime';

export interface ChaosCellOptions {
  readonly cell: string;
  readonly dataDir: string;
  readonly nodes: number;
  readonly nodesPerAgent: number;
  readonly schedulers: number;
  readonly cellStates: number;
  readonly partitions: number;
  readonly nodeShape: NodeShape;
  readonly heartbeatMs: number;
  readonly logLevel: string;
  readonly readyTimeoutMs?: number;
  readonly extraArgs?: Partial<Record<ServiceKind, readonly string[]>>;
  readonly onEvent?: (name: string, state: string) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ChaosCell {
  readonly services: Supervised[] = [];
  natsUrl = '';
  /** Every connection authenticates (DESIGN §13): the chaos driver as admin, each service as its identity. */
  auth?: CellAuth;

  constructor(readonly opts: ChaosCellOptions) {}

  of(kind: ServiceKind): Supervised[] {
    return this.services.filter((s) => s.opts.kind === kind);
  }

  byName(name: string): Supervised {
    const s = this.services.find((x) => x.name === name);
    if (s === undefined) throw new RangeError(`no service ${name}`);
    return s;
  }

  /** Starts nats, the cell-states one by one (the first becomes leader), then schedulers and agents. */
  async start(): Promise<void> {
    const o = this.opts;
    const logDir = join(o.dataDir, 'logs');
    const base = { cwd: REPO_ROOT, restart: false, readyTimeoutMs: o.readyTimeoutMs ?? 120_000, onChange: (s: Supervised) => o.onEvent?.(s.name, s.state) };
    const port = await freePort();
    const monitorPort = await freePort();
    const plan = planCell({
      cell: o.cell, nodes: o.nodes, nodesPerAgent: o.nodesPerAgent, schedulers: o.schedulers, partitions: o.partitions,
      nodeShape: o.nodeShape, heartbeatMs: o.heartbeatMs, logLevel: o.logLevel, extraArgs: o.extraArgs,
    });
    const auth = this.auth = prepareCellAuth({
      subjects: subjectsFor(o.cell), cellDir: o.dataDir, agents: agentIdsOf(plan), tenants: ['default'],
    });
    const natsDir = join(o.dataDir, 'nats');
    const configFile = writeNatsConfig({ dataDir: natsDir, port, monitorPort, serverName: `chaos-${o.cell}`, include: relative(natsDir, auth.accountsFile) });
    this.natsUrl = `nats://127.0.0.1:${port}`;
    this.services.push(new Supervised({
      ...base, name: 'nats', kind: 'nats', logFile: join(logDir, 'nats.log'), readiness: { kind: 'port', port },
      launch: () => ({ command: natsServerBinary(), args: ['-c', configFile], httpPort: monitorPort, metricsUrl: `http://127.0.0.1:${monitorPort}/varz` }),
    }));
    const services: PlannedService[] = [];
    for (const p of plan) {
      if (p.kind !== 'cell-state') {
        services.push(p);
        continue;
      }
      for (let i = 0; i < o.cellStates; i++) services.push({ ...p, name: `cell-state-${i}`, args: [...p.args, '--id', `cs-${i}`] });
    }
    for (const p of services) {
      this.services.push(new Supervised({
        ...base, name: p.name, kind: p.kind, logFile: join(logDir, `${p.name}.log`), nodes: p.nodes,
        readiness: { kind: 'listening-line' },
        // --http-port 0: a fresh port every start; the listening line tells the metrics URL.
        launch: () => ({
          command: process.execPath,
          args: nodeTsArgs(p.entry, [
            ...commonArgs({ natsUrl: this.natsUrl, cell: o.cell, httpPort: 0, logLevel: o.logLevel, natsAuth: auth.credentialsFile(identityOfService(p)) }),
            ...p.args,
          ]),
        }),
      }));
    }
    try {
      for (const s of this.of('nats')) await s.start();
      for (const s of this.of('cell-state')) await s.start();
      await Promise.all([...this.of('scheduler'), ...this.of('node-agent')].map((s) => s.start()));
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Polls cell-state's node listing until every node is registered. */
  async waitForNodes(nc: NatsConnection, timeoutMs: number): Promise<void> {
    const s = subjectsFor(this.opts.cell);
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (Date.now() < deadline) {
      try {
        seen = (await request(nc, s.queryNodes, { offset: 0, limit: 1 }, nodesListingReply, { timeoutMs: 2_000 })).total;
        if (seen >= this.opts.nodes) return;
      } catch { /* not serving yet */ }
      await sleep(250);
    }
    throw new Error(`only ${seen} of ${this.opts.nodes} nodes registered within ${timeoutMs} ms`);
  }

  /** /healthz of a tessera service, parsed (undefined when it does not answer). */
  async health(s: Supervised): Promise<Record<string, unknown> | undefined> {
    const m = s.info().metricsUrl;
    if (m === undefined || s.pid === undefined) return undefined;
    try {
      const r = await fetch(m.replace(/\/metrics$/, '/healthz'), { signal: AbortSignal.timeout(1_500) });
      return (await r.json()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /**
   * The cell-state instance that serves: with one, it; with several, the one whose /healthz says
   * it leads (`role: "leader"` or `leader: true`), else the only healthy one, else the first alive.
   */
  async leader(): Promise<Supervised> {
    const all = this.of('cell-state');
    if (all.length === 1) return all[0];
    const alive = all.filter((s) => s.pid !== undefined);
    const healths = await Promise.all(alive.map(async (s) => ({ s, h: await this.health(s) })));
    const lead = healths.find(({ h }) => h?.role === 'leader' || h?.leader === true);
    if (lead !== undefined) return lead.s;
    const ok = healths.filter(({ h }) => h?.ok === true);
    if (ok.length === 1) return ok[0].s;
    return alive[0] ?? all[0];
  }

  /** kill -9 (resolves once the process is gone). */
  async kill(s: Supervised): Promise<void> {
    await s.kill('SIGKILL');
  }

  /** Starts a killed service again; resolves when it is ready (a few tries: a port may still be held). */
  async restart(s: Supervised): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await s.restart();
        return;
      } catch (e) {
        last = e;
        await sleep(1_000);
      }
    }
    throw last;
  }

  /** Stops everything: agents, schedulers, cell-states, nats. */
  async stop(): Promise<void> {
    for (const kind of ['node-agent', 'scheduler', 'cell-state', 'nats'] as const) {
      await Promise.all(this.of(kind).map((s) => s.stop().catch(() => undefined)));
    }
  }

  /** Last resort on exit: SIGKILL every process group. */
  killNow(): void {
    for (const s of this.services) s.killNow();
  }
}
