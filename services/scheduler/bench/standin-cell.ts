/**
 * Bench only: a stand-in for cell-state that serves sync, commit, register and jobOutcome straight
 * from core's CellState and Committer, without the commit log, so `bench/throughput.ts --standin`
 * shows what the schedulers alone can do. Not a cell-state: no durability, no job table.
 *   tsx services/scheduler/bench/standin-cell.ts NATS_URL PARTITIONS
 */
import { CellState, Committer, ResourceSpace } from '@tessera/core';
import {
  commitRequest, jobOutcomeRequest, registerRequest, subjectsFor, syncRequest, syncToWire, txnFromWire, txnResultToWire,
} from '@tessera/protocol';
import { connectNats, createLogger, serve } from '@tessera/runtime';

const url = process.argv[2];
const partitions = Number(process.argv[3] ?? 16);
const log = createLogger('standin-cell', 'warn');
const nc = await connectNats(url, 'standin-cell', log);
const s = subjectsFor('default');
const space = ResourceSpace.default;
const cell = new CellState(space, partitions);
const committer = new Committer(cell, { granularity: 'fine' });
let seq = 0;

serve(nc, s.nodeRegisterAll, registerRequest, (r) => {
  for (const n of r.nodes) cell.upsertNode({ id: n.id, labels: n.labels, capacity: space.vector(n.capacity) });
  return { ok: true, registered: r.nodes.length };
}, { log });
serve(nc, s.sync, syncRequest, (r) => ({
  ok: true, partitions, syncs: r.requests.map((q) => syncToWire(cell.sync(q.partition, q.since))),
}), { log });
serve(nc, s.commit, commitRequest, (r) => ({
  ok: true, results: committer.commitBatch(r.txns.map((t) => txnFromWire(space, t)), ++seq).map(txnResultToWire),
}), { log });
serve(nc, s.jobOutcome, jobOutcomeRequest, () => ({ ok: true }), { log });

process.stderr.write(`${JSON.stringify({ msg: 'standin ready' })}\n`);
process.once('SIGTERM', () => void nc.drain().finally(() => process.exit(143)));
