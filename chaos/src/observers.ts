/**
 * What the chaos driver watches while the cell runs (all on its own NATS connection, which
 * reconnects by itself after a nats-server kill):
 *  - the agents' heartbeats (a plain subscription next to cell-state's queue group: a copy of
 *    every heartbeat, never answered) → AgentReports;
 *  - the commit-log subject (every append is also a plain message) → when the cell last
 *    committed a claim, to pace the kills; the figures come from the stored log at the end;
 *  - a `queryJobs` probe every 250 ms → when cell-state last answered;
 *  - the partition listing every 5 s → how full the cell is (the load is meant to keep it ~50%).
 */
import { decodeEntry } from '@tessera/cell-state';
import { decodeAs, heartbeatRequest, jobsListingReply, partitionsListingReply, type Subjects } from '@tessera/protocol';
import { request, type NatsConnection, type Subscription } from '@tessera/runtime';
import { AgentReports } from './agent-reports.ts';

export class Observers {
  readonly reports: AgentReports;
  /** Receive times of commit-log messages that committed claims (live, for pacing). */
  readonly liveCommits: number[] = [];
  /** Send times of `queryJobs` probes that were answered, ascending. */
  readonly queryOks: number[] = [];
  /** Sampled mean allocated ratio per resource over ready nodes, with the sample time. */
  readonly utilisation: { at: number; ratio: Record<string, number> }[] = [];
  private readonly subs: Subscription[] = [];
  private probeTimer?: NodeJS.Timeout;
  private sampleTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly nc: NatsConnection, private readonly s: Subjects, heartbeatMs: number) {
    this.reports = new AgentReports(3 * heartbeatMs);
  }

  start(): void {
    this.subs.push(this.nc.subscribe(this.s.nodeHeartbeatAll, {
      callback: (err, m) => {
        if (err) return;
        const d = decodeAs(m.data, heartbeatRequest);
        if (d.ok) this.reports.record(Date.now(), d.value.nodes);
      },
    }));
    this.subs.push(this.nc.subscribe(this.s.commitLogSubject, {
      callback: (err, m) => {
        if (err) return;
        const d = decodeEntry(m.data);
        if (d.ok && d.entry.records.some((r) => r.t === 'commit' && r.task.length > 0)) this.liveCommits.push(Date.now());
      },
    }));
    const probe = async () => {
      if (this.stopped) return;
      const sent = Date.now();
      try {
        await request(this.nc, this.s.queryJobs, { offset: 0, limit: 1 }, jobsListingReply, { timeoutMs: 1_000 });
        this.queryOks.push(sent);
      } catch { /* not answered: that is what the probe measures */ }
      if (!this.stopped) this.probeTimer = setTimeout(() => void probe(), Math.max(0, 250 - (Date.now() - sent)));
    };
    void probe();
    const sample = async () => {
      try {
        const r = await request(this.nc, this.s.queryPartitions, {}, partitionsListingReply, { timeoutMs: 2_000 });
        const sum: Record<string, number> = {};
        let nodes = 0;
        for (const p of r.items) {
          nodes += p.ready;
          for (const [k, v] of Object.entries(p.allocated_ratio)) sum[k] = (sum[k] ?? 0) + v * p.ready;
        }
        if (nodes > 0) {
          for (const k of Object.keys(sum)) sum[k] /= nodes;
          this.utilisation.push({ at: Date.now(), ratio: sum });
        }
      } catch { /* skipped sample */ }
    };
    this.sampleTimer = setInterval(() => void sample(), 5_000);
  }

  /** True once the cell committed a claim and answered a query, both after `t`. */
  recoveredSince(t: number): boolean {
    const c = this.liveCommits;
    const q = this.queryOks;
    return c.length > 0 && c[c.length - 1] > t && q.length > 0 && q[q.length - 1] > t;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.probeTimer);
    clearInterval(this.sampleTimer);
    for (const s of this.subs) s.unsubscribe();
  }
}
