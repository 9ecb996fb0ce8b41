/**
 * Scheduler throughput at saturation: a real cell (nats-server, cell-state or the in-process
 * stand-in committer, K scheduler replicas), N simulated nodes registered directly, J jobs of T
 * tasks published to the jobs stream at once. Reports committed placements/s, job delay
 * p50/p99 (from the replicas' histograms), conflicts, retries and commit batch sizes.
 *
 *   tsx services/scheduler/bench/throughput.ts --nodes 10000 --schedulers 4 --jobs 5000 --tasks 10
 *     [--partitions 16] [--mode latency-first] [--standin] [--scheduler-args="--sample-size 8"] [--profile DIR]
 *
 * `--standin` replaces cell-state by bench/standin-cell.ts (core Committer, no commit log), to
 * see the schedulers' own ceiling apart from the committer's durability cost.
 */
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { encode, registerReply, subjectsFor } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { startNatsServer, startServiceProcess, type ServiceProcess } from '@tessera/testkit';
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10000' },
    schedulers: { type: 'string', default: '4' },
    jobs: { type: 'string', default: '5000' },
    tasks: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '16' },
    mode: { type: 'string', default: 'latency-first' },
    standin: { type: 'boolean', default: false },
    'scheduler-args': { type: 'string', default: '' },
    /** Write the schedulers' CPU profiles (node --cpu-prof) into this folder. */
    profile: { type: 'string' },
  },
});
const N = Number(a.nodes), K = Number(a.schedulers), J = Number(a.jobs), T = Number(a.tasks), P = Number(a.partitions);

function sum(text: string, name: string): number {
  let s = 0;
  for (const l of text.split('\n')) if (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) s += Number(l.slice(l.lastIndexOf(' ') + 1));
  return s;
}
function buckets(text: string, name: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of text.split('\n')) {
    const m = l.match(new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\S+)$`));
    if (m) out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), (out.get(m[1] === '+Inf' ? Infinity : Number(m[1])) ?? 0) + Number(m[2]));
  }
  return out;
}
function quantile(b: Map<number, number>, q: number): number {
  const les = [...b.keys()].sort((x, y) => x - y);
  const total = b.get(Infinity) ?? 0;
  for (const le of les) if (b.get(le)! >= q * total) return le;
  return Infinity;
}

if (a.profile) mkdirSync(a.profile, { recursive: true });
const nats = await startNatsServer();
const procs: ServiceProcess[] = [];
try {
  procs.push(a.standin
    ? await startServiceProcess({ entry: 'services/scheduler/bench/standin-cell.ts', args: [nats.url, String(P)], readyMsg: 'standin ready' })
    : await startServiceProcess({ entry: 'services/cell-state/src/main.ts', args: ['--nats', nats.url, '--partitions', String(P), '--heartbeat-timeout-ms', '3600000', '--log-level', 'info'] }));
  const nc = await connect({ servers: nats.url });
  const s = subjectsFor('default');
  for (let i = 0; i < N; i += 5000) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 5000); k++) batch.push({ id: `n${k}`, labels: { zone: `z${k % 3}` }, capacity: { cpu_millis: 32_000, mem_mib: 131_072 } });
    await request(nc, s.nodeRegister(`bench${i / 5000}`), { agent: `bench${i / 5000}`, nodes: batch }, registerReply, { timeoutMs: 30_000 });
  }
  const extra = a['scheduler-args'].split(' ').filter((x) => x !== '');
  const schedulers = await Promise.all(Array.from({ length: K }, (_, i) => startServiceProcess({
    entry: a.profile ? 'services/scheduler/bench/profiled-scheduler.ts' : 'services/scheduler/src/main.ts',
    args: ['--nats', nats.url, '--index', String(i), '--count', String(K), '--mode', a.mode, ...extra],
    readyMsg: 'ready',
    env: a.profile ? { TESSERA_PROFILE_DIR: a.profile } : undefined,
  })));
  procs.push(...schedulers);
  const urls = await Promise.all(schedulers.map(async (p) => String((await p.waitForLog((l) => l.msg === 'listening')).metrics)));

  const t = Date.now();
  const js = jetstream(nc);
  const t0 = Date.now();
  const pending: Promise<unknown>[] = [];
  for (let j = 0; j < J; j++) {
    pending.push(js.publish(s.jobsSubmit('default'), encode({ job: { id: `b${t}-${j}`, tasks: [{ name: 't', count: T, resources: { cpu_millis: 100, mem_mib: 64 } }] }, submittedAt: Date.now() })));
    if (pending.length >= 500) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const published = Date.now() - t0;
  const want = J * T;
  let texts: string[] = [];
  let placed = 0;
  while (Date.now() - t0 < 600_000) {
    texts = await Promise.all(urls.map(async (u) => (await fetch(u)).text()));
    placed = texts.reduce((x, tx) => x + sum(tx, 'tessera_scheduler_placements_total'), 0);
    const done = texts.reduce((x, tx) => x + sum(tx, 'tessera_scheduler_jobs_total'), 0);
    if (placed >= want || done >= J) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const elapsed = (Date.now() - t0) / 1000;
  const delay = new Map<number, number>();
  for (const tx of texts) for (const [le, c] of buckets(tx, 'tessera_scheduler_job_delay_seconds')) delay.set(le, (delay.get(le) ?? 0) + c);
  const all = texts.join('\n');
  console.log(JSON.stringify({
    committer: a.standin ? 'standin' : 'cell-state', nodes: N, partitions: P, schedulers: K, mode: a.mode, jobs: J, tasksPerJob: T,
    publishSeconds: published / 1000, seconds: elapsed, placed, placementsPerSecond: Math.round(placed / elapsed),
    delayP50: quantile(delay, 0.5), delayP99: quantile(delay, 0.99),
    conflicts: sum(all, 'tessera_scheduler_conflicts_total'), retries: sum(all, 'tessera_scheduler_retries_total'),
    claimsPerCommitRequest: Math.round(sum(all, 'tessera_scheduler_commit_batch_claims_sum') / Math.max(1, sum(all, 'tessera_scheduler_commit_batch_claims_count'))),
    unschedulable: sum(all.split('\n').filter((l) => l.includes('outcome="unschedulable"')).join('\n'), 'tessera_scheduler_jobs_total'),
  }));
  await nc.close();
} finally {
  await Promise.all(procs.map((p) => p.stop(5_000)));
  await nats.stop();
}
