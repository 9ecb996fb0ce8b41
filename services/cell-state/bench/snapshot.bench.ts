/**
 * What a snapshot of a large cell costs, without NATS: copy the model (`takeSnapshot`, done
 * between writer batches, so it blocks the commit path), encode, decode and restore — and, for
 * comparison, rebuilding the same model by replaying its log. A cell of N nodes with ~8 tasks
 * each (placed by 64-claim transactions, `--entry-claims` claims per log entry: 1,024 is a
 * saturated group commit, a quieter cell writes fewer per entry and its log is longer), a job
 * per 64 tasks, the idempotency table full of those transactions.
 * Run: npx tsx services/cell-state/bench/snapshot.bench.ts [nodes…] [--entry-claims N]  (default 10000 100000, 1024)
 */
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ResourceSpace, type Transaction } from '@tessera/core';
import { decodeEntry, encodeEntry, type LogRecord } from '../src/core/log-records.ts';
import { applyEntry, createModel, decideCommitBatch, settleCommitted, type CellModel } from '../src/core/model.ts';
import { decodeSnapshot, encodeSnapshot, restoreModel, takeSnapshot, type ModelSnapshot } from '../src/core/snapshot.ts';

const space = ResourceSpace.default;
const OPTS = { partitions: 64, granularity: 'fine' as const };
const TASKS_PER_NODE = 8;
const argv = process.argv.slice(2);
const entryFlag = argv.indexOf('--entry-claims');
const CLAIMS_PER_ENTRY = entryFlag >= 0 ? Number(argv.splice(entryFlag, 2)[1]) : 1_024;
const CLAIMS_PER_TXN = Math.min(64, CLAIMS_PER_ENTRY);

function flat(s: string): string {
  return Buffer.from(s).toString();
}

function build(nodes: number): { model: CellModel; log: Uint8Array[] } {
  const m = createModel(space, OPTS);
  const log: Uint8Array[] = [];
  const append = (records: LogRecord[]) => {
    const bytes = encodeEntry({ v: 1, at: 1_700_000_000_000 + log.length, writer: 'bench', records });
    log.push(bytes);
    const d = decodeEntry(bytes);
    if (!d.ok) throw new Error(d.problem.message);
    applyEntry(m, d.entry, log.length);
  };
  append([{ t: 'cell', resources: [...space.names] }]);
  for (let i = 0; i < nodes; i += 1_000) {
    append([{
      t: 'register', agent: `agent-${i / 1_000}`,
      nodes: Array.from({ length: Math.min(1_000, nodes - i) }, (_, k) => ({
        id: `node-${i + k}`, labels: { zone: `z${(i + k) % 3}`, rack: `r${Math.floor((i + k) / 40)}` }, capacity: [64_000, 262_144, 8, 0],
      })),
    }]);
  }
  const tasks = nodes * TASKS_PER_NODE;
  const jobs = Math.ceil(tasks / 64);
  for (let j = 0; j < jobs; j += 200) {
    append(Array.from({ length: Math.min(200, jobs - j) }, (_, k) => ({
      t: 'job' as const, id: `job-${j + k}`, tenant: 't', submittedAt: 1,
      spec: { id: `job-${j + k}`, tenant: 't', queue: 'default', priority: 100, gang: false, tasks: [{ name: 'map', count: 64, resources: { cpu_millis: 500, mem_mib: 1024 }, duration_s: 60 }] },
    })));
  }
  // Commits decided live (as the leader would), logged as their commit records.
  let task = 0;
  while (task < tasks) {
    const txns: Transaction[] = [];
    for (let c = 0; c < CLAIMS_PER_ENTRY / CLAIMS_PER_TXN && task < tasks; c++) {
      txns.push({
        id: `txn-${task}`, schedulerId: 's', kind: 'incremental',
        claims: Array.from({ length: Math.min(CLAIMS_PER_TXN, tasks - task) }, () => {
          const id = task++;
          // Flat strings, as the service gets them from msgpack (template literals would be rope strings).
          return { taskId: flat(`job-${id >> 6}/map/${id & 63}`), jobId: flat(`job-${id >> 6}`), nodeId: flat(`node-${(id * 7919) % nodes}`), demand: Float64Array.of(500, 1024, 0, 0), seenVersion: 0 };
        }),
      });
    }
    const seq = log.length + 1;
    const d = decideCommitBatch(m, txns, seq);
    settleCommitted(m, d.committed, 1_700_000_000_000 + seq);
    const bytes = encodeEntry({ v: 1, at: 1_700_000_000_000 + seq, writer: 'bench', records: [d.record!] });
    log.push(bytes);
    m.lastSeq = seq;
  }
  return { model: m, log };
}

function ms(t0: number): number {
  return Math.round(performance.now() - t0);
}

for (const nodes of (argv.length > 0 ? argv.map(Number) : [10_000, 100_000])) {
  // Phases one after the other, each dropping what it no longer needs (a 100k-node model is ~1 GB
  // of heap; several alive at once would measure the garbage collector).
  let built: { model: CellModel; log: Uint8Array[] } | undefined = build(nodes);
  const log = built.log;
  const counts = { allocations: built.model.cell.placedTaskCount, jobs: built.model.jobs.size };
  const logBytes = log.reduce((s, b) => s + b.length, 0);
  const heapMiB = Math.round(process.memoryUsage().heapUsed / 1024 / 1024);
  let t0 = performance.now();
  let snap: ModelSnapshot | undefined = takeSnapshot(built.model, { at: Date.now(), writer: 'bench' });
  const copy = ms(t0);
  built = undefined;
  t0 = performance.now();
  const bytes = encodeSnapshot(snap);
  const encode = ms(t0);
  const outcomes = snap.meta.outcomes;
  snap = undefined;
  t0 = performance.now();
  const gz = gzipSync(bytes, { level: 1 });
  const gzip = ms(t0);
  t0 = performance.now();
  const raw = gunzipSync(gz);
  const gunzip = ms(t0);
  t0 = performance.now();
  const d = decodeSnapshot(raw);
  const decode = ms(t0);
  if (!d.ok) throw new Error(d.problem);
  t0 = performance.now();
  let r: CellModel | undefined = (() => {
    const x = restoreModel(d.value, space, OPTS);
    if (!x.ok) throw new Error(x.problem);
    return x.value;
  })();
  const restore = ms(t0);
  r = undefined;
  void r;
  t0 = performance.now();
  const replayed = createModel(space, OPTS);
  log.forEach((b, i) => {
    const e = decodeEntry(b);
    if (!e.ok) throw new Error(e.problem.message);
    applyEntry(replayed, e.entry, i + 1);
  });
  const replay = ms(t0);
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(`${nodes} nodes, ${counts.allocations} allocations, ${counts.jobs} jobs, ${outcomes} remembered txns (heap ${heapMiB} MiB with its log):` +
    ` snapshot ${mib(bytes.length)} MiB, gzip -1 ${mib(gz.length)} MiB (copy ${copy} ms, encode ${encode} ms, gzip ${gzip} ms;` +
    ` load: gunzip ${gunzip} ms, decode ${decode} ms, restore ${restore} ms = ${gunzip + decode + restore} ms);` +
    ` full replay of ${log.length} entries / ${mib(logBytes)} MiB: ${replay} ms`);
}
