/** Builders shared by the cell-state unit tests (not a test file itself). */
import { ResourceSpace, type JobSpec, type Transaction } from '@tessera/core';
import { applyRecord, createModel, emptyEffects, settleCommitted, settleEvicted, decideCommitBatch, type CellModel } from '../src/core/model.ts';
import type { LogRecord } from '../src/core/log-records.ts';

export const space = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu']);

export function model(opts: { partitions?: number; granularity?: 'fine' | 'coarse' } = {}): CellModel {
  return createModel(space, { partitions: opts.partitions ?? 2, granularity: opts.granularity ?? 'fine' });
}

let seq = 0;
/** Applies records as one entry would (the commit path aside). */
export function apply(m: CellModel, ...records: LogRecord[]) {
  const effects = emptyEffects();
  const results = records.map((r) => applyRecord(m, r, 1_000, ++seq, effects));
  m.lastSeq = seq;
  return { effects, results };
}

export function register(m: CellModel, agent: string, ...nodes: { id: string; cpu?: number; labels?: Record<string, string> }[]) {
  return apply(m, { t: 'register', agent, nodes: nodes.map((n) => ({ id: n.id, labels: n.labels ?? {}, capacity: [n.cpu ?? 1000, 1000, 0] })) });
}

export function spec(id: string, groups: { name: string; count: number; cpu?: number; duration_s?: number; command?: string[] }[]): JobSpec {
  return {
    id, tenant: 't', queue: 'default', priority: 100, gang: false,
    tasks: groups.map((g) => ({ name: g.name, count: g.count, resources: { cpu_millis: g.cpu ?? 100 }, duration_s: g.duration_s, command: g.command })),
  } as JobSpec;
}

export function submit(m: CellModel, s: JobSpec, submittedAt = 500) {
  return apply(m, { t: 'job', id: s.id, tenant: s.tenant, submittedAt, spec: s as unknown as Record<string, unknown> });
}

export function claimTxn(id: string, claims: { task: string; node: string; cpu: number; seen?: number }[], kind: 'incremental' | 'all-or-nothing' = 'incremental'): Transaction {
  return {
    id, schedulerId: 's', kind,
    claims: claims.map((c) => ({ taskId: c.task, jobId: c.task.split('/')[0], nodeId: c.node, demand: Float64Array.of(c.cpu, 0, 0), seenVersion: c.seen ?? 0 })),
  };
}

/** The live commit path without a log: decide, then settle as if the append succeeded. */
export function commitNow(m: CellModel, txns: Transaction[], at = 2_000) {
  const s = ++seq;
  const d = decideCommitBatch(m, txns, s);
  settleCommitted(m, d.committed, at);
  settleEvicted(m, d.evicted);
  m.lastSeq = s;
  return d;
}
