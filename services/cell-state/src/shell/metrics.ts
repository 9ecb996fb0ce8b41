/** The cell-state's Prometheus metrics (DESIGN §7 names). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ConflictReason, NODE_CONDITIONS, type Allocation, type TxnResult } from '@tessera/core';
import { RefusedReason } from '@tessera/protocol';
import type { CellModel } from '../core/model.ts';

export interface CellMetrics {
  /** Counts the outcomes of a decided batch (replays included). */
  countResults(results: readonly TxnResult[]): void;
  observeBatch(seconds: number, txns: number): void;
  refused(subject: string, code: string): void;
  /** A message refused by an identity check (`core/identity.ts`). */
  refusedIdentity(reason: string): void;
  appendFailed(): void;
  /** Victims of committed evictions (DESIGN §11); optional so test stubs may leave it out. */
  preempted?(victims: readonly Allocation[]): void;
}

const TXN_OUTCOMES = ['committed', 'partial', 'rejected', 'replayed'] as const;

export function createCellMetrics(registry: Registry, model: CellModel): CellMetrics {
  const registers = [registry];
  const txns = new Counter({
    name: 'tessera_commit_transactions_total', registers, labelNames: ['outcome'],
    help: 'Transactions answered by the committer: committed (every claim), partial (some), rejected (none), replayed (idempotent repeat of a known id)',
  });
  const claims = new Counter({
    name: 'tessera_commit_claims_total', registers, labelNames: ['outcome'],
    help: 'Claims decided by the committer (replays not counted), committed or rejected',
  });
  const conflicts = new Counter({
    name: 'tessera_commit_conflicts_total', registers, labelNames: ['reason'],
    help: 'Rejected claims by reason: resources, version (coarse), constraint, node_gone, duplicate_task, gang_aborted, invalid',
  });
  const batch = new Histogram({
    name: 'tessera_commit_batch_seconds', registers,
    help: 'Time to group-commit one batch: decide, append to the commit log and wait for its ack, apply',
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const batchTxns = new Histogram({
    name: 'tessera_commit_batch_transactions', registers,
    help: 'Transactions per group-commit batch', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096],
  });
  const preemptionVictims = new Counter({
    name: 'tessera_preemption_victims_total', registers, labelNames: ['queue'],
    help: 'Tasks evicted by committed preemptions, by the victim\'s queue',
  });
  const appendFailures = new Counter({
    name: 'tessera_commit_log_append_failures_total', registers,
    help: 'Commit-log appends that failed (the batch was undone and answered unavailable)',
  });
  const refusedTotal = new Counter({
    name: 'tessera_messages_refused_total', registers, labelNames: ['subject', 'code'],
    help: 'Requests answered with a typed error, by subject and error code',
  });
  const refusedByReason = new Counter({
    name: 'tessera_refused_total', registers, labelNames: ['reason'],
    help: 'Messages refused because they spoke for another identity than the subject the server checked: agent_mismatch, tenant_mismatch, foreign_node',
  });
  for (const r of Object.values(RefusedReason)) refusedByReason.inc({ reason: r }, 0);
  new Gauge({
    name: 'tessera_cell_nodes', registers, labelNames: ['state'],
    help: 'Nodes of the cell by state (ready, draining, lost)',
    collect() {
      const counts: Record<string, number> = Object.fromEntries(NODE_CONDITIONS.map((c) => [c, 0]));
      for (const n of model.cell.nodes) counts[n.condition] += 1;
      for (const c of NODE_CONDITIONS) this.set({ state: c }, counts[c]);
    },
  });
  new Gauge({
    name: 'tessera_cell_allocated_ratio', registers, labelNames: ['resource'],
    help: 'Allocated / capacity over ready nodes, per resource',
    collect() {
      const { capacity, allocated } = model.cell.totals();
      model.space.names.forEach((name, i) => this.set({ resource: name }, capacity[i] > 0 ? allocated[i] / capacity[i] : 0));
    },
  });
  new Gauge({
    name: 'tessera_cell_log_sequence', registers,
    help: 'Sequence of the last commit-log entry applied',
    collect() { this.set(model.lastSeq); },
  });
  new Gauge({
    name: 'tessera_cell_jobs', registers,
    help: 'Jobs in the job table',
    collect() { this.set(model.jobs.size); },
  });

  for (const o of TXN_OUTCOMES) txns.inc({ outcome: o }, 0);
  claims.inc({ outcome: 'committed' }, 0);
  claims.inc({ outcome: 'rejected' }, 0);
  for (const r of Object.values(ConflictReason)) conflicts.inc({ reason: r }, 0);

  return {
    countResults(results) {
      let committed = 0, partial = 0, rejected = 0, replayed = 0, claimsOk = 0, claimsNo = 0;
      const reasons = new Map<string, number>();
      for (const r of results) {
        if (r.replayed) { replayed++; continue; }
        claimsOk += r.committed.length;
        claimsNo += r.rejected.length;
        if (r.rejected.length === 0) committed++;
        else if (r.committed.length === 0) rejected++;
        else partial++;
        for (const x of r.rejected) reasons.set(x.reason, (reasons.get(x.reason) ?? 0) + 1);
      }
      if (committed) txns.inc({ outcome: 'committed' }, committed);
      if (partial) txns.inc({ outcome: 'partial' }, partial);
      if (rejected) txns.inc({ outcome: 'rejected' }, rejected);
      if (replayed) txns.inc({ outcome: 'replayed' }, replayed);
      if (claimsOk) claims.inc({ outcome: 'committed' }, claimsOk);
      if (claimsNo) claims.inc({ outcome: 'rejected' }, claimsNo);
      for (const [reason, n] of reasons) conflicts.inc({ reason }, n);
    },
    observeBatch(seconds, n) {
      batch.observe(seconds);
      batchTxns.observe(n);
    },
    refused(subject, code) {
      refusedTotal.inc({ subject, code });
    },
    refusedIdentity(reason) {
      refusedByReason.inc({ reason });
    },
    appendFailed() {
      appendFailures.inc();
    },
    preempted(victims) {
      for (const a of victims) preemptionVictims.inc({ queue: a.queue ?? 'default' });
    },
  };
}

/** High availability and snapshots. */
export interface HaMetrics {
  roleChanged(role: string): void;
  snapshotWritten(seconds: number, bytes: number, seq: number): void;
}

export function createHaMetrics(registry: Registry, isLeader: () => boolean): HaMetrics {
  const registers = [registry];
  new Gauge({
    name: 'tessera_cell_leader', registers,
    help: '1 on the cell-state that leads (holds the lease and serves), 0 on standbys',
    collect() { this.set(isLeader() ? 1 : 0); },
  });
  const roles = new Counter({
    name: 'tessera_cell_role_changes_total', registers, labelNames: ['role'],
    help: 'Role changes of this cell-state (standby, promoting, leader, demoting, stopped)',
  });
  const snapSeconds = new Histogram({
    name: 'tessera_cell_snapshot_seconds', registers,
    help: 'Time to write one snapshot (copy the model, encode, store)', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  });
  const snapBytes = new Gauge({ name: 'tessera_cell_snapshot_bytes', registers, help: 'Size of the last snapshot written' });
  const snapSeq = new Gauge({ name: 'tessera_cell_snapshot_sequence', registers, help: 'Commit-log sequence of the last snapshot written' });
  return {
    roleChanged(role) {
      roles.inc({ role });
    },
    snapshotWritten(seconds, bytes, seq) {
      snapSeconds.observe(seconds);
      snapBytes.set(bytes);
      snapSeq.set(seq);
    },
  };
}
