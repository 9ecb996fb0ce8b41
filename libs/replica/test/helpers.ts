/** Test fixtures: a tiny cell, a committer, and replicas whose views are synced from the cell. */
import { ResourceSpace, SchedulerView, validateJobSpec, type JobSpec, type JobSpecInput, type Transaction, type TxnResult } from '@tessera/core';
import { MemoryCell } from '@tessera/testkit/harness';
import { SchedulerReplica, type ReplicaOptions } from '../src/index.ts';

export const space = ResourceSpace.of(['cpu_millis', 'mem_mib']);

/** The in-memory cell + committer of @tessera/testkit: it records every transaction and can refuse them. */
export type Fixture = MemoryCell;

/** A cell of nodes `n0..n{k-1}` with the given cpu (and 1 GiB memory each). */
export function makeCell(cpus: readonly number[], partitions = 1): Fixture {
  return new MemoryCell(space, { partitions }).addNodes(cpus.map((cpu, i) => ({ id: `n${i}`, labels: { zone: i % 2 === 0 ? 'a' : 'b' }, capacity: space.vector({ cpu_millis: cpu, mem_mib: 1024 }) })));
}

export function makeReplica(fx: Fixture, options: Partial<ReplicaOptions> = {}, now = 0): SchedulerReplica {
  const view = new SchedulerView(space, fx.cell.partitionCount);
  const r = new SchedulerReplica({
    schedulerId: 's0', schedulerIndex: 0, schedulers: 1, partitions: fx.cell.partitionCount,
    mode: 'quality-first', syncIntervalMs: 1000, ...options,
  }, view);
  syncAll(fx, r, now);
  return r;
}

export function syncAll(fx: Fixture, r: SchedulerReplica, now: number): void {
  for (const req of r.bootstrapRequests()) r.applySync(fx.cell.sync(req.partition, r.view.partitions[req.partition].version), now);
}

export function commit(fx: Fixture, txn: Transaction): TxnResult {
  return fx.commit(txn);
}

export function job(input: Partial<JobSpecInput> & { tasks: JobSpecInput['tasks'] }): JobSpec {
  const r = validateJobSpec({ id: 'j1', ...input }, space);
  if (!r.ok) throw new Error(`${r.error.path}: ${r.error.message}`);
  return r.job;
}

/** Total reservations still booked on the view (should be 0 once every answer is in). */
export function reservedTotal(r: SchedulerReplica): number {
  let s = 0;
  for (const p of r.view.partitions) for (const n of p.nodes) if (n.reserved) for (const x of n.reserved) s += x;
  return s;
}
