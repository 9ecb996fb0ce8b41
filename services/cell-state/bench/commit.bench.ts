/**
 * What a group-commit batch costs on the CPU, without NATS: decide N transactions (k claims each)
 * with the core Committer, build and encode the commit record, convert and encode the replies.
 * And how fast that record replays (decode + zod + apply). Run: npx tsx services/cell-state/bench/commit.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { ResourceSpace, type Transaction } from '@tessera/core';
import { encode, txnResultToWire } from '@tessera/protocol';
import { decodeEntry, encodeEntry } from '../src/core/log-records.ts';
import { applyEntry, applyRecord, createModel, decideCommitBatch, emptyEffects, settleCommitted, type CellModel } from '../src/core/model.ts';

const space = ResourceSpace.default;
const NODES = 10_000;

function freshModel(): CellModel {
  const m = createModel(space, { partitions: 16, granularity: 'fine' });
  const nodes = Array.from({ length: NODES }, (_, i) => ({ id: `node-${i}`, labels: { zone: `z${i % 3}` }, capacity: [64_000, 262_144, 8, 0] }));
  applyRecord(m, { t: 'register', agent: 'a', nodes }, 0, 1, emptyEffects());
  m.lastSeq = 1;
  return m;
}

let task = 0;
function txns(n: number, k: number): Transaction[] {
  return Array.from({ length: n }, (_, t) => ({
    id: `txn-${task}-${t}`, schedulerId: 's', kind: 'incremental',
    claims: Array.from({ length: k }, () => {
      const id = task++;
      return { taskId: `job-${id >> 4}/map/${id & 15}`, jobId: `job-${id >> 4}`, nodeId: `node-${(id * 7919) % NODES}`, demand: Float64Array.of(100, 256, 0, 0), seenVersion: 0 };
    }),
  }));
}

function bench(n: number, k: number, rounds: number) {
  const m = freshModel();
  const entries: Uint8Array[] = [];
  let decide = 0, record = 0, reply = 0, bytes = 0;
  for (let r = 0; r < rounds; r++) {
    const batch = txns(n, k);
    const seq = m.lastSeq + 1;
    const t0 = performance.now();
    const d = decideCommitBatch(m, batch, seq);
    const t1 = performance.now();
    const e = encodeEntry({ v: 1, at: Date.now(), writer: 'w', records: [d.record!] });
    const t2 = performance.now();
    settleCommitted(m, d.committed, 0);
    const wire = encode({ ok: true, results: d.results.map(txnResultToWire) });
    const t3 = performance.now();
    m.lastSeq = seq;
    decide += t1 - t0; record += t2 - t1; reply += t3 - t2; bytes += e.length;
    entries.push(e);
    void wire;
  }
  // Replay the same entries into a fresh model.
  const r = freshModel();
  const t0 = performance.now();
  entries.forEach((e, i) => {
    const dec = decodeEntry(e);
    if (!dec.ok) throw new Error('decode');
    applyEntry(r, dec.entry, i + 2);
  });
  const replay = performance.now() - t0;
  const claims = n * k * rounds;
  const us = (ms: number) => ((ms * 1000) / rounds).toFixed(0);
  console.log(`N=${String(n).padStart(4)} txns × k=${k} claims: decide ${us(decide)} µs, record+encode ${us(record)} µs, replies ${us(reply)} µs per batch` +
    ` = ${(((decide + record + reply) * 1e6) / claims / 1000).toFixed(2)} µs/claim; entry ${(bytes / rounds / 1024).toFixed(1)} KiB;` +
    ` replay ${(claims / (replay / 1000) / 1000).toFixed(0)}k claims/s (${(rounds / (replay / 1000)).toFixed(0)} entries/s)`);
}

for (const [n, k] of [[1, 1], [16, 1], [64, 1], [256, 1], [1024, 1], [64, 16], [16, 100]] as const) bench(n, k, Math.max(20, Math.floor(40_000 / (n * k))));
