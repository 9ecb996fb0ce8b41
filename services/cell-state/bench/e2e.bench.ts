/**
 * End-to-end commit throughput through NATS and JetStream: a real nats-server, the cell-state as a
 * child process, C clients each keeping one commit request of T single-claim transactions in flight.
 * Then kill -9 and restart to time the replay of the whole log.
 * Run: npx tsx services/cell-state/bench/e2e.bench.ts [clients=8] [txnsPerRequest=32] [seconds=10]
 */
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { commitReply, registerReply, subjectsFor } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { startNatsServer, startServiceProcess } from '@tessera/testkit';

const [clients = 8, perRequest = 32, seconds = 10] = process.argv.slice(2).map(Number);
const NODES = 5_000;
const RES = ['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli'];
const args = (url: string) => ['--nats', url, '--log-level', 'info', '--heartbeat-timeout-ms', '3600000'];

const ns = await startNatsServer();
// CELL_STATE_PROFILE=dir: CPU-profile the cell-state during the load phase (written on a graceful stop).
const profileDir = process.env.CELL_STATE_PROFILE;
let cs = await startServiceProcess({
  entry: 'services/cell-state/src/main.ts', args: args(ns.url),
  nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
});
const nc = await connect({ servers: ns.url });
const s = subjectsFor();
for (let i = 0; i < NODES; i += 1000) {
  await request(nc, s.nodeRegister('bench'), { agent: 'bench', nodes: Array.from({ length: 1000 }, (_, k) => ({ id: `n${i + k}`, labels: {}, capacity: { cpu_millis: 1e9, mem_mib: 1e9 } })) }, registerReply);
}
let committed = 0, requests = 0, txnCounter = 0;
const lat: number[] = [];
const deadline = performance.now() + seconds * 1000;
await Promise.all(Array.from({ length: clients }, async (_, c) => {
  const cn = await connect({ servers: ns.url });
  while (performance.now() < deadline) {
    const txns = Array.from({ length: perRequest }, () => {
      const t = txnCounter++;
      return { id: `b${c}-${t}`, schedulerId: `s${c}`, kind: 'incremental', claims: [{ taskId: `job${t >> 4}/w/${t & 15}`, jobId: `job${t >> 4}`, nodeId: `n${(t * 7919) % NODES}`, demand: [10, 10], seenVersion: 0 }] };
    });
    const t0 = performance.now();
    const r = await request(cn, s.commit, { resources: RES, txns }, commitReply, { timeoutMs: 30_000 });
    lat.push(performance.now() - t0);
    requests++;
    for (const x of r.results) committed += x.committed.length;
  }
  await cn.close();
}));
lat.sort((a, b) => a - b);
const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
const metrics = await (await fetch(cs.metricsUrl!)).text();
const batches = Number(/tessera_commit_batch_seconds_count\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
const batchSum = Number(/tessera_commit_batch_seconds_sum\{[^}]*\} ([\d.e+-]+)/.exec(metrics)?.[1] ?? 0);
console.log(`${clients} clients × ${perRequest} txns/request, ${seconds}s: ${(committed / seconds).toFixed(0)} committed placements/s, ` +
  `${requests} requests, latency p50 ${q(0.5)} ms p99 ${q(0.99)} ms; ${batches} batches, ${(committed / Math.max(1, batches)).toFixed(0)} claims/batch, ` +
  `mean batch ${(batchSum / Math.max(1, batches) * 1000).toFixed(2)} ms`);

if (profileDir) await cs.stop();
else await cs.kill('SIGKILL');
const t0 = performance.now();
cs = await startServiceProcess({ entry: 'services/cell-state/src/main.ts', args: args(ns.url), readyTimeoutMs: 300_000 });
const ready = performance.now() - t0;
const rep = await cs.waitForLog((l) => l.msg === 'commit log replayed');
console.log(`restart: ready after ${(ready / 1000).toFixed(1)} s; replay ${JSON.stringify({ entries: rep.entries, bytes: rep.bytes, seconds: rep.seconds, entriesPerSecond: rep.entriesPerSecond, placed: rep.placed })}` +
  ` = ${(Number(rep.placed) / Number(rep.seconds) / 1000).toFixed(0)}k claims/s`);
await cs.stop();
await nc.close();
await ns.stop();
