/**
 * The console's live data: every tick, scrape the services' /metrics and (every other tick) the
 * cell's node and partition listings and the commit-log tail; build one frame and hand it to the
 * listeners (the SSE clients). Keeps a short history of rates for the charts.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { readStateFile, stateFilePath } from '@tessera/launcher';
import { fetchNodes, fetchPartitions } from '../shell/listings.ts';
import { scrape } from '../shell/metrics-probe.ts';
import type { CellTarget } from '../shell/target.ts';
import { readCommitTail, type LogTailEntry } from './commit-tail.ts';
import {
  leaderOf, nodesPanel, queuePanels, ratePoint, schedulerPanels,
  type NodesPanel, type QueuePanel, type RatePoint, type SchedulerPanel, type Scrape, type ServiceScrape,
} from './frame.ts';

export interface ServiceRef {
  readonly name: string;
  readonly kind: ServiceScrape['kind'];
  readonly metricsUrl: string;
}

export interface Frame {
  readonly at: number;
  readonly cell: string;
  readonly leader?: string;
  readonly schedulers: readonly SchedulerPanel[];
  readonly queues: readonly QueuePanel[];
  /** The newest rate point (the page keeps its own history; `history` on connect). */
  readonly rate?: RatePoint;
  /** Present on ticks that read the listings. */
  readonly nodes?: NodesPanel;
  readonly log?: readonly LogTailEntry[];
  readonly error?: string;
}

export interface CollectorOptions {
  readonly nc: NatsConnection;
  readonly target: CellTarget;
  /** Extra /metrics URLs (`--metrics`), besides the local cell's state file. */
  readonly metricsUrls?: readonly ServiceRef[];
  readonly tickMs?: number;
}

const HISTORY = 600;

export class ConsoleCollector {
  private readonly listeners = new Set<(f: Frame) => void>();
  private timer?: NodeJS.Timeout;
  private previous?: Scrape;
  private tick = 0;
  private busy = false;
  readonly history: RatePoint[] = [];
  /** The last frame that carried nodes and the log (sent to a client when it connects). */
  lastFull?: Frame;
  last?: Frame;

  constructor(private readonly o: CollectorOptions) {}

  /** Services to scrape: the local cell's cell-state and schedulers (state file, re-read for restarts) and the extra URLs. */
  services(): ServiceRef[] {
    const out: ServiceRef[] = [...(this.o.metricsUrls ?? [])];
    try {
      const st = readStateFile(stateFilePath(this.o.target.cellDir));
      for (const s of st?.services ?? []) {
        if ((s.kind === 'cell-state' || s.kind === 'scheduler') && s.metricsUrl !== undefined) out.push({ name: s.name, kind: s.kind, metricsUrl: s.metricsUrl });
      }
    } catch { /* no readable state file: only the extra URLs */ }
    return out;
  }

  subscribe(fn: (f: Frame) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  start(): void {
    const tickMs = this.o.tickMs ?? 1000;
    const run = () => { void this.collect().finally(() => { this.timer = setTimeout(run, tickMs); }); };
    run();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  async collect(): Promise<Frame | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      const full = this.tick++ % 2 === 0;
      const refs = this.services();
      const at = Date.now();
      const services = await Promise.all(refs.map(async (r) => ({ name: r.name, kind: r.kind, samples: await scrape(r.metricsUrl) })));
      const now: Scrape = { at, services };
      const rate = this.previous !== undefined ? ratePoint(this.previous, now) : undefined;
      this.previous = now;
      if (rate !== undefined) {
        this.history.push(rate);
        if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
      }
      let nodes: NodesPanel | undefined, log: LogTailEntry[] | undefined, error: string | undefined;
      let partitionCount = this.lastFull?.nodes?.partitions.length ?? 0;
      if (full) {
        try {
          const [n, p] = await Promise.all([fetchNodes(this.o.nc, this.o.target.subjects.queryNodes), fetchPartitions(this.o.nc, this.o.target.subjects.queryPartitions)]);
          nodes = nodesPanel(n, p);
          partitionCount = p.length;
          log = await readCommitTail(this.o.nc, this.o.target.subjects, 15);
        } catch (e) {
          error = (e as Error).message;
        }
      }
      const frame: Frame = {
        at, cell: this.o.target.cell, leader: leaderOf(now), schedulers: schedulerPanels(now, partitionCount),
        queues: queuePanels(now), rate, nodes, log, error,
      };
      this.last = frame;
      if (nodes !== undefined) this.lastFull = frame;
      for (const l of this.listeners) l(frame);
      return frame;
    } finally {
      this.busy = false;
    }
  }
}
