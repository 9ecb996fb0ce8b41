/**
 * The agent's TaskBook under the benchmark's load, in virtual time (no NATS): 10,000 nodes,
 * `--rate` task starts per second, run times 0.5–4 s, task ends flushed in batches of 1000 every
 * `--flush-ticks` × 10 ms (acknowledged at once), a heartbeat round (tasksOn for every node) and expire every second.
 * Prints the wall time and the rate of task lifecycles per CPU second.
 *
 *   npx tsx services/node-agent/bench/task-book.bench.ts [--rate 20000] [--seconds 60]
 */
import type { Assignment } from '@tessera/protocol';
import { TaskBook as CurrentBook } from '../src/core/task-book.ts';
import { heartbeatBatches, MAX_BATCH } from '../src/core/heartbeat.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const rate = arg('rate', 20_000);
const seconds = arg('seconds', 60);
const nodes = arg('nodes', 10_000);
const nodeIds = Array.from({ length: nodes }, (_, i) => `node-${String(i).padStart(5, '0')}`);
const own = new Set(nodeIds);
// --impl FILE: another TaskBook module (e.g. the previous version, for a before/after in the same conditions).
const implAt = process.argv.indexOf('--impl');
const TaskBook = (implAt >= 0 ? ((await import(process.argv[implAt + 1])) as { TaskBook: typeof CurrentBook }).TaskBook : CurrentBook);
const flushEvery = arg('flush-ticks', 5);
const book = new TaskBook((id) => own.has(id), { endedGraceMs: 10_000 });

let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const tickMs = 10;
const perTick = Math.round((rate * tickMs) / 1000);
// Ends due per tick (a ring of buckets over the longest run time).
const ring: string[][] = Array.from({ length: 500 }, () => []);
let serial = 0;
let started = 0;
let ended = 0;
let tasksInHeartbeats = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
for (let tick = 0, now = 0; now < seconds * 1000; tick++, now += tickMs) {
  for (let i = 0; i < perTick; i++) {
    const job = `job-${serial >> 10}`;
    const a: Assignment = { taskId: `${job}/t${serial & 1023}`, jobId: job, nodeId: nodeIds[serial % nodes], resources: { cpu_millis: 100 } };
    serial++;
    if (book.admit(a, now).verdict === 'start') {
      started++;
      ring[(tick + 50 + Math.floor(rnd() * 350)) % ring.length].push(a.taskId);
    }
  }
  const due = ring[tick % ring.length];
  ring[tick % ring.length] = [];
  for (const id of due) if (book.finish(id, { outcome: 'succeeded', exitCode: 0 }, now) !== undefined) ended++;
  if (tick % flushEvery === 0) {
    while (book.pendingReports > 0) book.acknowledge(book.nextReports(MAX_BATCH), now);
  }
  if (tick % 100 === 0) {
    for (const hb of heartbeatBatches('agent-0', nodeIds, book)) for (const n of hb.nodes) tasksInHeartbeats += n.tasks.length;
    book.expire(now);
  }
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({
  rate, seconds, nodes, started, ended, tasksInHeartbeats,
  wallMs: Math.round(wall), cpuS: Number(cpuS.toFixed(2)),
  lifecyclesPerCpuS: Math.round(ended / cpuS),
}));
