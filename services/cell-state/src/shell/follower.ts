/**
 * A standby follows the commit log continuously: an ordered consumer from `model.lastSeq + 1`,
 * every entry applied with the same pure `applyEntry` the leader's replay uses, so at a
 * promotion only the last few entries are left to read. Nothing is published (the leader does).
 */
import { DeliverPolicy, jetstream, type ConsumerMessages } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@tessera/runtime';
import type { CellModel } from '../core/model.ts';
import { applyStoredEntry, LogIntegrityError } from './replay.ts';

const RETRY_MS = 1_000;

export class LogFollower {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private retry: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  /** Entries applied since the follower started (for health). */
  applied = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly model: CellModel,
    private readonly stream: string,
    private readonly log: Logger,
    /** After each applied entry (e.g. a standby's snapshot schedule). */
    private readonly onApplied?: () => void,
  ) {}

  /** Runs `fn` while no entry is applied (the model stays still), e.g. a standby's snapshot copy. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    while (this.gate !== undefined) await this.gate;
    let release: () => void = () => undefined;
    this.gate = new Promise<void>((r) => { release = r; });
    try {
      return await fn();
    } finally {
      this.gate = undefined;
      release();
    }
  }

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop !== undefined) return;
    this.stopping = false;
    this.loop = this.follow().finally(() => { this.loop = undefined; });
  }

  /** Stops and waits until no entry is being applied (the model is then at `model.lastSeq`). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.wake?.();
    this.messages?.stop();
    await this.loop;
  }

  private async follow(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await jetstream(this.nc).consumers.get(this.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.model.lastSeq + 1 });
        if (this.stopping) return;
        const messages = await consumer.consume({ max_messages: 1_000 });
        this.messages = messages;
        if (this.stopping) {
          messages.stop();
          return;
        }
        for await (const m of messages) {
          while (this.gate !== undefined) await this.gate;
          if (this.stopping) break;
          if (m.seq <= this.model.lastSeq) continue;
          if (m.seq !== this.model.lastSeq + 1) this.log.warn({ from: this.model.lastSeq + 1, to: m.seq - 1 }, 'commit-log entries missing (deleted?) while following');
          try {
            applyStoredEntry(this.model, m.seq, m.data, this.log);
          } catch (e) {
            // A corrupted entry is never applied, nor anything after it (the corruption handler has run).
            if (e instanceof LogIntegrityError) {
              this.stopping = true;
              break;
            }
            // applyEntry is total except for a `cell` record of other resources: skip it, keep following.
            this.log.error({ err: e, seq: m.seq }, 'cannot apply a commit-log entry; skipped');
            this.model.lastSeq = m.seq;
          }
          this.applied++;
          this.onApplied?.();
        }
      } catch (e) {
        if (this.stopping) return;
        this.log.warn({ err: e }, 'following the commit log failed; retrying');
      }
      if (this.stopping) return;
      await new Promise<void>((r) => {
        this.wake = r;
        this.retry = setTimeout(r, RETRY_MS);
      });
      this.wake = undefined;
    }
  }
}
