/**
 * A stand-in for cell-state on the scheduler's subjects (sync, commit, job outcome), served over
 * real NATS from core's CellState and Committer (no commit log, no agents), recording every
 * request with its arrival time. Tests steer it to play the failures a chaos run produces:
 * commit or sync requests lost in flight (never answered), and a stretch of time during which
 * every claim is refused as `node_gone` (nodes marked lost while their agents re-register).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { CellState, Committer, ConflictReason, ResourceSpace, type TxnResult } from '@tessera/core';
import {
  commitRequest, jobOutcomeRequest, syncRequest, syncToWire, txnFromWire, txnResultToWire,
  type CommitRequest, type JobOutcomeRequest, type Subjects, type SyncRequest,
} from '@tessera/protocol';
import { createLogger, serve, type Subscription } from '@tessera/runtime';

export class StandInCell {
  readonly space = ResourceSpace.default;
  readonly cell: CellState;
  readonly committer: Committer;
  readonly commits: { at: number; req: CommitRequest; answered: boolean }[] = [];
  readonly syncs: { at: number; req: SyncRequest; answered: boolean }[] = [];
  readonly outcomes: JobOutcomeRequest[] = [];
  /** Leave this many next commit / sync requests unanswered (lost in flight). */
  swallowCommits = 0;
  swallowSyncs = 0;
  /** Until this time (Date.now()), refuse every claim as node_gone. */
  refuseNodeGoneUntil = 0;
  private seq = 0;
  private readonly subs: Subscription[] = [];

  constructor(nc: NatsConnection, s: Subjects, readonly partitions: number) {
    this.cell = new CellState(this.space, partitions);
    this.committer = new Committer(this.cell, { granularity: 'fine' });
    const log = createLogger('standin-cell', 'silent');
    this.subs.push(serve(nc, s.sync, syncRequest, (r) => {
      const rec = { at: Date.now(), req: r, answered: false };
      this.syncs.push(rec);
      if (this.swallowSyncs > 0) {
        this.swallowSyncs--;
        return undefined;
      }
      rec.answered = true;
      return { ok: true, partitions, syncs: r.requests.map((q) => syncToWire(this.cell.sync(q.partition, q.since))) };
    }, { log }));
    this.subs.push(serve(nc, s.commit, commitRequest, (r) => {
      const rec = { at: Date.now(), req: r, answered: false };
      this.commits.push(rec);
      if (this.swallowCommits > 0) {
        this.swallowCommits--;
        return undefined;
      }
      rec.answered = true;
      const seq = ++this.seq;
      const txns = r.txns.map((t) => txnFromWire(this.space, t));
      const results: TxnResult[] = Date.now() < this.refuseNodeGoneUntil
        ? txns.map((t) => ({ txnId: t.id, committed: [], nodes: [], seq, rejected: t.claims.map((c) => ({ taskId: c.taskId, nodeId: c.nodeId, reason: ConflictReason.node_gone })) }))
        : this.committer.commitBatch(txns, seq);
      return { ok: true, results: results.map(txnResultToWire) };
    }, { log }));
    this.subs.push(serve(nc, s.jobOutcome, jobOutcomeRequest, (r) => {
      this.outcomes.push(r);
      return { ok: true };
    }, { log }));
  }

  addNodes(count: number, cpuMillis: number, prefix = 'n'): void {
    for (let i = 0; i < count; i++) {
      this.cell.upsertNode({ id: `${prefix}${i}`, labels: {}, capacity: this.space.vector({ cpu_millis: cpuMillis, mem_mib: 65_536 }) });
    }
  }

  /** How many of the `count` tasks of group `group` of `jobId` the committer accepted so far. */
  placedTasks(jobId: string, group: string, count: number): number {
    let n = 0;
    for (let i = 0; i < count; i++) if (this.cell.isTaskPlaced(`${jobId}/${group}/${i}`)) n++;
    return n;
  }

  stop(): void {
    for (const s of this.subs) s.unsubscribe();
  }
}
