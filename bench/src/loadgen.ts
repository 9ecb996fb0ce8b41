/**
 * The load generator: a separate process (forked by the benchmark) that publishes job submissions
 * to the cell's JetStream jobs stream, open loop: a job is sent when it is due, whether or not the
 * cell keeps up. Its `submittedAt` is the *due* time, not the send time, so if this process ever
 * lags, the lag shows up in the measured delay instead of silently lowering the load (no
 * coordinated omission); lags over `lateMs` are counted and break a saturation step.
 *
 * Jobs are real alibaba2017 jobs (task groups, counts, requests, run times) drawn by
 * @tessera/workloads' empirical sampler with a seeded rng, or a real trace replayed time-compressed.
 * Controlled over IPC (see loadgen-messages.ts); reports totals every 250 ms.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createRng } from '@tessera/policy';
import { encode, subjectsFor, type JobSubmission } from '@tessera/protocol';
import { connectionOptionsOf } from '@tessera/runtime';
import { BUNDLED, jobSizeDistribution, loadTrace, scaleArrivalsAsync, readTrace, type JobSizeDistribution } from '@tessera/workloads';
import type { JobSpec } from '@tessera/core';
import { ArrivalClock } from './arrivals.ts';
import type { FromLoadgen, LoadgenConfig, SampledSubmission, ToLoadgen } from './loadgen-messages.ts';

const send = (m: FromLoadgen) => process.send?.(m);

let cfg: LoadgenConfig | undefined;
let nc: NatsConnection | undefined;
let js: JetStreamClient | undefined;
let published = 0, tasks = 0, late = 0, errors = 0, inFlight = 0, maxLagMs = 0;
let lastError: string | undefined;
let sampled: SampledSubmission[] = [];
let done = false;
let stopping = false;
let clock: ArrivalClock | undefined;
let paused = true;
let timer: NodeJS.Timeout | undefined;
let n = 0;
// Wall clock (epoch ms) at performance.now() = 0: due times are kept on the monotonic clock.
const epochOrigin = Date.now() - performance.now();

function taskCount(job: JobSpec): number {
  let c = 0;
  for (const g of job.tasks) c += g.count;
  return c;
}

function publish(job: JobSpec, dueMs: number, index: number): void {
  const submittedAt = Math.round(epochOrigin + dueMs);
  const lag = performance.now() - dueMs;
  if (lag > maxLagMs) maxLagMs = lag;
  if (lag > (cfg!.lateMs ?? 250)) late++;
  const payload: JobSubmission = { job: job as unknown as Record<string, unknown>, submittedAt };
  const count = taskCount(job);
  inFlight++;
  js!.publish(subjectsFor(cfg!.cell).jobsSubmit(job.tenant), encode(payload), { msgID: job.id, timeout: 30_000 }).then(
    () => {
      published++;
      tasks += count;
      if (cfg!.sampleEvery !== undefined && index % cfg!.sampleEvery === 0) sampled.push({ id: job.id, submittedAt, tasks: count });
    },
    (e: Error) => { errors++; lastError = e.message; },
  ).finally(() => { inFlight--; });
}

let sizes: ReturnType<typeof createRng> | undefined;
let epoch = 0;

/** (Re)starts the job sequence from its seed: job k of every epoch is the same real job. */
function seedSequence(seed: string, rate: number): void {
  sizes = createRng(`${seed}/jobs`);
  clock = new ArrivalClock(createRng(`${seed}/gaps`), rate, performance.now());
}

function runSampler(dist: JobSizeDistribution, seed: string): void {
  const prefix = cfg!.idPrefix;
  seedSequence(seed, 1);
  const tick = () => {
    timer = undefined;
    if (stopping) return;
    const now = performance.now();
    if (!paused) {
      for (const due of clock!.due(now)) {
        const s = dist.sample(sizes!);
        const job: JobSpec = { id: `${prefix}${epoch > 0 ? `e${epoch}-` : ''}${n}`, tenant: s.tenant, queue: s.queue, priority: s.priority, gang: s.gang, tasks: s.tasks };
        publish(job, due, n++);
      }
    }
    const wait = paused ? 20 : Math.max(0, Math.min(20, clock!.next - performance.now()));
    timer = setTimeout(tick, wait);
  };
  tick();
}

async function runReplay(path: string, speed: number): Promise<void> {
  const start = performance.now();
  const prefix = cfg!.idPrefix;
  let originS: number | undefined;
  for await (const tj of scaleArrivalsAsync(readTrace(path, { order: 'sort' }), speed)) {
    if (stopping) break;
    originS ??= tj.submitS;
    const due = start + (tj.submitS - originS) * 1000;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    publish({ ...tj.job, id: `${prefix}${tj.job.id}` }, due, n++);
  }
  done = true;
}

function report(): void {
  send({ t: 'stats', published, tasks, late, errors, inFlight, maxLagMs, rate: clock?.currentRate ?? 0, sampled, done, ...(lastError ? { lastError } : {}) });
  sampled = [];
  maxLagMs = 0;
}

async function start(c: LoadgenConfig): Promise<void> {
  cfg = c;
  const t0 = performance.now();
  nc = await connect({ ...connectionOptionsOf(c.natsCredentials), servers: c.natsUrl, name: 'tessera bench load generator', maxReconnectAttempts: -1 });
  js = jetstream(nc);
  if (c.replayTrace !== undefined) {
    send({ t: 'ready', jobs: 0, meanTasksPerJob: Number.NaN, source: c.replayTrace, loadMs: performance.now() - t0 });
    setInterval(report, 250).unref();
    void runReplay(c.replayTrace, c.speed ?? 1).catch((e: Error) => send({ t: 'error', message: e.message }));
    return;
  }
  const source = c.samplerTrace ?? BUNDLED.alibaba2017Jobs;
  const { jobs } = await loadTrace(source);
  const dist = jobSizeDistribution(jobs);
  send({ t: 'ready', jobs: dist.jobs, meanTasksPerJob: dist.meanTasksPerJob, source, loadMs: performance.now() - t0 });
  setInterval(report, 250).unref();
  runSampler(dist, c.seed);
}

process.on('message', (m: ToLoadgen) => {
  switch (m.t) {
    case 'config':
      start(m).catch((e: Error) => { send({ t: 'error', message: e.message }); process.exit(1); });
      break;
    case 'rate':
      if (clock !== undefined) {
        if (paused) clock.resume(performance.now());
        clock.setRate(m.rate, performance.now());
      }
      paused = false;
      break;
    case 'restart':
      if (cfg !== undefined && cfg.replayTrace === undefined) {
        epoch++;
        seedSequence(cfg.seed, m.rate);
      }
      paused = false;
      break;
    case 'pause':
      paused = true;
      break;
    case 'stop':
      stopping = true;
      if (timer) clearTimeout(timer);
      void (async () => {
        const deadline = Date.now() + 10_000;
        while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        report();
        await nc?.close();
        process.exit(0);
      })();
      break;
  }
});
process.on('disconnect', () => process.exit(0));
