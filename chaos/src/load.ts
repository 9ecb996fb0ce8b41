/**
 * The open-loop load: Poisson arrivals of chaos jobs published to the jobs stream the way
 * `tessera submit` does (msgID = job id, so a retried publish is deduplicated). A job counts as
 * acknowledged once JetStream acked it; those are the jobs the invariants are checked for. A
 * publish that fails (nats-server down) is retried with the same msgID, like a careful client,
 * for up to `giveUpMs`; a job never acked is reported but carries no promise.
 */
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { JobSpec } from '@tessera/core';
import { createRng, type Rng } from '@tessera/policy';
import { encode, type Subjects } from '@tessera/protocol';
import type { NatsConnection } from '@tessera/runtime';
import type { JobSizeDistribution } from '@tessera/workloads';
import { asFiller, chaosJob, FILLER_DURATION_FACTOR, type ChaosWorkloadOptions } from './workload.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LoadOptions {
  readonly ratePerS: number;
  readonly seed: string | number;
  readonly workload: ChaosWorkloadOptions;
  readonly idPrefix: string;
  readonly publishTimeoutMs?: number;
  readonly giveUpMs?: number;
  /** Filler jobs per second on their own stream (preemption load; 0: none). */
  readonly fillerRatePerS?: number;
}

export class LoadGenerator {
  /** Job id → JetStream sequence of the acked submission. */
  readonly acked = new Map<string, number>();
  /** Jobs whose submission was never acknowledged. */
  readonly unacked: string[] = [];
  submitted = 0;
  /** Of `submitted`, the filler jobs (preemption load). */
  fillers = 0;
  tasksSubmitted = 0;
  retries = 0;
  private readonly js: JetStreamClient;
  private readonly jobsRng: Rng;
  private readonly gapRng: Rng;
  private readonly fillerRng: Rng;
  private readonly fillerGapRng: Rng;
  private readonly inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private next = 0;
  private nextFiller = Infinity;
  private stopped = false;

  constructor(nc: NatsConnection, private readonly s: Subjects, private readonly dist: JobSizeDistribution, private readonly o: LoadOptions) {
    this.js = jetstream(nc);
    // Two streams: which jobs are sent never depends on when they are sent.
    this.jobsRng = createRng(`chaos/${o.seed}/jobs`);
    this.gapRng = createRng(`chaos/${o.seed}/gaps`);
    // Fillers draw from streams of their own: the main jobs are the same with or without them.
    this.fillerRng = createRng(`chaos/${o.seed}/fillers`);
    this.fillerGapRng = createRng(`chaos/${o.seed}/filler-gaps`);
  }

  private gapMs(): number {
    return (-Math.log(1 - this.gapRng.next()) / this.o.ratePerS) * 1000;
  }

  private fillerGapMs(): number {
    return (-Math.log(1 - this.fillerGapRng.next()) / (this.o.fillerRatePerS ?? 0)) * 1000;
  }

  start(): void {
    this.next = Date.now() + this.gapMs();
    if ((this.o.fillerRatePerS ?? 0) > 0) this.nextFiller = Date.now() + this.fillerGapMs();
    this.timer = setInterval(() => {
      const now = Date.now();
      while (!this.stopped && this.next <= now) {
        this.next += this.gapMs();
        this.submit(chaosJob(this.dist, this.jobsRng, `${this.o.idPrefix}${this.submitted}`, this.o.workload));
      }
      while (!this.stopped && this.nextFiller <= now) {
        this.nextFiller += this.fillerGapMs();
        this.fillers++;
        this.submit(asFiller(chaosJob(this.dist, this.fillerRng, `${this.o.idPrefix}f${this.fillers}`, this.o.workload), FILLER_DURATION_FACTOR));
      }
    }, 20);
  }

  private submit(job: JobSpec): void {
    this.submitted++;
    for (const g of job.tasks) this.tasksSubmitted += g.count;
    const p = this.publish(job).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async publish(job: JobSpec): Promise<void> {
    const payload = encode({ job, submittedAt: Date.now() });
    const giveUpAt = Date.now() + (this.o.giveUpMs ?? 30_000);
    for (let attempt = 0; ; attempt++) {
      try {
        const ack = await this.js.publish(this.s.jobsSubmit(job.tenant), payload, { msgID: job.id, timeout: this.o.publishTimeoutMs ?? 5_000 });
        this.acked.set(job.id, ack.seq);
        return;
      } catch {
        if (Date.now() >= giveUpAt) {
          this.unacked.push(job.id);
          return;
        }
        this.retries++;
        await sleep(Math.min(2_000, 250 * 2 ** attempt));
      }
    }
  }

  /** Stops new arrivals and waits for every publish to be acked or given up. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
