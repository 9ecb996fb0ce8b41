/**
 * The jobs backlog as metrics: every `everyMs` the scheduler asks JetStream for the shared work
 * consumer's state and sets `tessera_scheduler_backlog_jobs` (messages not delivered yet, plus
 * delivered and not acknowledged) and `tessera_scheduler_oldest_pending_seconds` (the age of the
 * oldest message not acknowledged: the one right after the consumer's ack floor). Under overload
 * this is where the pending work is — durably in the stream, not in a process's heap (admission
 * control takes only what the replica can work on) — so this is where an operator sees it.
 * A failed look-up leaves the gauges as they were.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from '@tessera/protocol';
import type { Logger } from '@tessera/runtime';
import type { SchedulerMetrics } from './metrics.ts';

export interface BacklogWatchOptions {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly metrics: SchedulerMetrics;
  readonly log: Logger;
  readonly everyMs?: number;
  readonly now?: () => number;
}

export class BacklogWatch {
  private timer: NodeJS.Timeout | undefined;
  private jsm: JetStreamManager | undefined;
  private polling = false;
  private lastError = 0;

  constructor(private readonly o: BacklogWatchOptions) {}

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.o.nc);
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.o.everyMs ?? 2_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look-up (exposed for tests). */
  async poll(): Promise<void> {
    if (this.polling || this.jsm === undefined) return;
    this.polling = true;
    const { subjects, metrics } = this.o;
    try {
      const ci = await this.jsm.consumers.info(subjects.jobsStream, subjects.jobsConsumer);
      const backlog = ci.num_pending + ci.num_ack_pending;
      metrics.backlogJobs.set(backlog);
      if (backlog === 0) {
        metrics.oldestPendingSeconds.set(0);
        return;
      }
      const oldest = await this.jsm.streams.getMessage(subjects.jobsStream, { seq: ci.ack_floor.stream_seq + 1 });
      if (oldest !== null) metrics.oldestPendingSeconds.set(Math.max(0, ((this.o.now ?? Date.now)() - oldest.time.getTime()) / 1000));
    } catch (e) {
      const t = Date.now();
      if (t - this.lastError > 30_000) {
        this.lastError = t;
        this.o.log.debug({ err: e }, 'jobs backlog look-up failed; the backlog gauges keep their last values');
      }
    } finally {
      this.polling = false;
    }
  }
}
