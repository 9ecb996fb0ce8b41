/**
 * High availability: two or more cell-states of one cell, one leader holding the lease, standbys
 * following the commit log and taking over when the lease lapses.
 *
 * Roles (refusing illegal transitions): `starting → standby → promoting → leader → demoting →
 * standby …`, and `stopped` from anywhere on shutdown.
 * - standby: the follower applies the log as it grows; every `checkMs` the lease key is read and
 *   judged (core/lease.ts). Free or lapsed → promote.
 * - promoting: stop following, catch up to the log's last sequence, acquire the lease (revision
 *   checked: create when absent, update on the revision observed), then append a `leader` entry
 *   fenced on the log's end — from then on a deposed leader's appends fail — and start serving.
 * - leader: renews every `renewMs` (revision-checked update). It steps down when a renewal finds
 *   the key moved on, when it could not renew for a whole lease (checked by a watchdog and on
 *   every request), or when an append fails on the fence (another writer appended).
 * - demoting: stop serving, let the writer finish the batch in flight, release the lease when it
 *   is still ours (a graceful hand-over), follow the log again.
 */
import type { Logger } from '@tessera/runtime';
import {
  judgeLease, leaseValid, leaseValueFor, observeLease, type LeaseObservation,
} from '../core/lease.ts';
import type { CellModel } from '../core/model.ts';
import type { CommitLogPort } from './commit-log.ts';
import { LeaseTakenError, type LeasePort } from './lease.ts';
import { replayInto } from './replay.ts';
import type { LogWriter } from './writer.ts';

export type Role = 'starting' | 'standby' | 'promoting' | 'leader' | 'demoting' | 'stopped';
const NEXT: Record<Role, readonly Role[]> = {
  starting: ['standby', 'stopped'],
  standby: ['promoting', 'stopped'],
  promoting: ['leader', 'standby', 'demoting', 'stopped'],
  leader: ['demoting', 'stopped'],
  demoting: ['standby', 'stopped'],
  stopped: [],
};

export class IllegalRoleTransitionError extends Error {
  override readonly name = 'IllegalRoleTransitionError';
}

export interface LeadershipOptions {
  readonly writerId: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  readonly checkMs: number;
  readonly log: Logger;
  /** Monotonic ms (lease timing) and wall-clock ms (the value's informative deadline). */
  readonly mono: () => number;
  readonly wall: () => number;
}

export interface LeadershipParts {
  readonly lease: LeasePort;
  readonly commitLog: CommitLogPort;
  readonly model: CellModel;
  readonly writer: LogWriter;
  readonly follower: { start(): void; stop(): Promise<void> };
  /** Serving the request subjects, the jobs stream, liveness, snapshots: the leader's work. */
  readonly serving: { start(): Promise<void>; stop(): Promise<void> };
  /** Called before the lease is released on a graceful shutdown (final snapshot). */
  readonly beforeRelease?: () => Promise<void>;
  readonly onRole?: (role: Role, reason: string) => void;
}

export class Leadership {
  private current: Role = 'starting';
  private obs: LeaseObservation | undefined;
  private leaseRevision = 0;
  private renewalSentAt: number | undefined;
  private term = 0;
  private checkTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private checking = false;
  private renewing = false;
  /** The renewal out now (awaited by a rescue). */
  private renewal: Promise<void> | undefined;
  private rescuing = false;
  private renewalStartedAt = 0;
  /** When the check timer last ran (monotonic ms): a long gap means this process stalled. */
  private lastTickAt = 0;
  /** Bumped at a reconnect: reads and renewals sent before it are abandoned (most likely lost). */
  private epoch = 0;
  private transition: Promise<void> | undefined;
  private promotion: Promise<void> | undefined;
  private stopped = false;
  private lastReadError = 0;
  private readonly settledWaiters: ((r: Role) => void)[] = [];
  private isSettled = false;
  /** When the last promotion started and how long it took (ms), for health and tests. */
  lastPromotion: { at: number; tookMs: number; term: number } | undefined;

  constructor(private readonly parts: LeadershipParts, private readonly opts: LeadershipOptions) {}

  get role(): Role {
    return this.current;
  }

  get leaseTerm(): number {
    return this.term;
  }

  /** The holder as last seen in the lease key (ourselves while leading). */
  get holder(): string | undefined {
    return this.current === 'leader' ? this.opts.writerId : this.obs?.value?.holder;
  }

  private to(next: Role, reason: string): void {
    if (!NEXT[this.current].includes(next)) throw new IllegalRoleTransitionError(`cannot go from ${this.current} to ${next}`);
    this.opts.log.info({ from: this.current, to: next, reason, term: this.term }, 'role');
    this.current = next;
    this.parts.onRole?.(next, reason);
  }

  private settle(): void {
    if (this.isSettled) return;
    this.isSettled = true;
    for (const w of this.settledWaiters.splice(0)) w(this.current);
  }

  /**
   * Resolves once the start-up election is decided: this cell-state leads, or another one was
   * seen renewing the lease, or `timeoutMs` passed (then: a standby still waiting for a lapse).
   */
  settled(timeoutMs: number): Promise<Role> {
    if (this.isSettled) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.current), timeoutMs);
      this.settledWaiters.push((r) => { clearTimeout(t); resolve(r); });
    });
  }

  /** True while leading with a valid lease. Asked on every request; a lapsed lease starts the step-down. */
  isLeading(): boolean {
    if (this.current !== 'leader') return false;
    if (leaseValid(this.renewalSentAt, this.opts.mono(), this.opts.leaseMs)) return true;
    void this.rescue(this.opts.mono() - this.lastTickAt);
    return false;
  }

  /**
   * The lease ran out without a renewal in time — most often because this process stalled (a busy
   * event loop on a loaded machine), not because anyone took over. Serving stops at once (isLeading
   * and mayAppend say no), then one renewal goes out, revision-checked on our last revision: it
   * lands only if no other cell-state wrote the key since, i.e. nobody took over, and then this one
   * simply goes on leading. Otherwise (taken, or no answer) it steps down as before. Without this,
   * every stall of ~1 s under overload cost a full step-down and promotion (2-3 s with no
   * committer), and the jobs' retries piled up meanwhile.
   */
  private async rescue(sinceTickMs: number): Promise<void> {
    if (this.rescuing || this.current !== 'leader') return;
    const lapsedAt = (this.renewalSentAt ?? 0) + this.opts.leaseMs;
    // Did this process stall? Its own check timer (every checkMs) ran that much late.
    const stalled = sinceTickMs > this.opts.checkMs + this.opts.leaseMs / 2;
    // A renewal sent before the lapse and still unanswered while this process ran normally: the
    // bus is slow or cut — step down at once, as a standby may take over any moment now. (After a
    // stall its answer is most likely waiting in the socket: wait for it.)
    if (!stalled && this.renewal !== undefined && this.renewalStartedAt < lapsedAt) {
      void this.demote('lease expired (not renewed in time)', false);
      return;
    }
    this.rescuing = true;
    const lateMs = Math.round(this.opts.mono() - lapsedAt);
    try {
      // The renewal the stalled timer sent late, or one sent now.
      if (this.renewal !== undefined) await this.renewal;
      else await this.renew();
      if (this.current !== 'leader') return;
      if (leaseValid(this.renewalSentAt, this.opts.mono(), this.opts.leaseMs)) {
        this.opts.log.warn({ term: this.term, lateMs }, 'the lease ran out while this cell-state stalled; renewed it (nobody had taken it over), still leading');
        this.onRescued?.();
        return;
      }
      await this.demote('lease expired (not renewed in time)', false);
    } finally {
      this.rescuing = false;
    }
  }

  /** Called when a lapsed lease was renewed without a step-down (metrics). */
  onRescued: (() => void) | undefined;

  /** May the writer append now? While promoting (the fencing entry) or leading, with a valid lease. */
  mayAppend(): boolean {
    return (this.current === 'leader' || this.current === 'promoting') && leaseValid(this.renewalSentAt, this.opts.mono(), this.opts.leaseMs);
  }

  /** The writer's append failed on the fence: another writer appended to the log. */
  onFenced(): void {
    if (this.current === 'leader') void this.demote('an append failed on the fence: another cell-state writes the log', true);
  }

  /** Starts as a standby: follow the log, read the lease now and every `checkMs`. */
  start(): void {
    this.to('standby', 'start');
    this.parts.follower.start();
    this.checkTimer = setInterval(() => this.tick(), this.opts.checkMs);
    this.tick();
  }

  private tick(): void {
    const now = this.opts.mono();
    const sinceTick = now - this.lastTickAt;
    this.lastTickAt = now;
    if (this.current === 'standby') void this.check();
    else if (this.current === 'leader' && !leaseValid(this.renewalSentAt, now, this.opts.leaseMs)) {
      void this.rescue(sinceTick);
    }
  }

  /**
   * The NATS client reconnected: requests out before were most likely lost with the old
   * connection and would only end at their timeout. A standby reads the lease again at once, a
   * leader renews at once (a lapsed lease after a long outage is taken over without waiting for
   * the next tick; the safety rules are the usual ones: revision-checked writes, a leader that
   * could not renew within its lease has stepped down already).
   */
  reconnected(): void {
    if (this.stopped) return;
    this.epoch++;
    if (this.current === 'standby') {
      this.checking = false;
      void this.check();
    } else if (this.current === 'leader') {
      this.renewing = false;
      void this.renew();
    }
  }

  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    const epoch = this.epoch;
    try {
      const key = await this.parts.lease.read();
      // Abandoned at a reconnect: a fresh read is out.
      if (epoch !== this.epoch) return;
      if (this.current !== 'standby' || this.stopped) return;
      const before = this.obs;
      this.obs = observeLease(before, key, this.opts.mono());
      const verdict = judgeLease(this.obs, this.opts.mono(), this.opts.wall(), this.opts.leaseMs);
      if (verdict === 'held') {
        // A revision change between two reads: a live leader renews; the start-up election is decided.
        if (before !== undefined && before.revision !== this.obs.revision) this.settle();
        return;
      }
      this.promotion = this.promote(verdict).finally(() => { this.promotion = undefined; });
      await this.promotion;
    } catch (e) {
      if (epoch !== this.epoch) return;
      const now = this.opts.mono();
      if (now - this.lastReadError > 5_000) {
        this.lastReadError = now;
        this.opts.log.warn({ err: e }, 'cannot read the leader lease; retrying');
      }
    } finally {
      if (epoch === this.epoch) this.checking = false;
    }
  }

  private async promote(verdict: 'free' | 'lapsed'): Promise<void> {
    const t0 = this.opts.mono();
    const seen = this.obs!;
    this.to('promoting', verdict === 'free' ? 'the lease is free' : `the lease of ${seen.value?.holder ?? 'an unknown holder'} lapsed`);
    await this.parts.follower.stop();
    const term = Math.max(this.term, seen.value?.term ?? 0) + 1;
    try {
      // Catch up first: a leader must hold everything the log holds before it decides anything.
      const last = await this.parts.commitLog.lastSequence();
      if (last > this.parts.model.lastSeq) await replayInto(this.parts.model, this.parts.commitLog, last, this.opts.log);
      const sentAt = this.opts.mono();
      const rev = await this.parts.lease.write(leaseValueFor(this.opts.writerId, term, this.opts.wall(), this.opts.leaseMs), seen.revision, seen.deleted, this.requestTimeoutMs);
      this.leaseRevision = rev;
      this.renewalSentAt = sentAt;
      this.term = term;
    } catch (e) {
      this.opts.log.info({ err: e instanceof LeaseTakenError ? e.message : e }, 'promotion failed (lease taken, or the log unreadable); staying a standby');
      this.obs = undefined;
      if (this.stopped) return;
      this.to('standby', 'lease not acquired');
      this.parts.follower.start();
      return;
    }
    this.startRenewing();
    this.parts.writer.resume();
    // Fence: our first entry goes on the log's end, so a deposed leader can no longer append.
    let fenced = false;
    for (let attempt = 0; attempt < 5 && !fenced && this.mayAppend(); attempt++) {
      const out = await this.parts.writer.append({ t: 'leader', id: this.opts.writerId, term });
      fenced = out.ok;
      if (!out.ok) this.opts.log.warn({ error: out.error, attempt }, 'the leader entry was not appended; catching up and retrying');
    }
    if (!fenced || this.current !== 'promoting') {
      await this.demote('could not append the leader entry', true);
      return;
    }
    this.to('leader', `term ${term}`);
    try {
      await this.parts.serving.start();
    } catch (e) {
      this.opts.log.error({ err: e }, 'cannot start serving');
      await this.demote('cannot start serving', true);
      return;
    }
    this.lastPromotion = { at: Date.now(), tookMs: Math.round(this.opts.mono() - t0), term };
    this.opts.log.warn({ term, lastSeq: this.parts.model.lastSeq, tookMs: this.lastPromotion.tookMs, previous: seen.value?.holder }, 'leading');
    this.settle();
  }

  private startRenewing(): void {
    if (this.renewTimer !== undefined) return;
    this.renewTimer = setInterval(() => void this.renew(), this.opts.renewMs);
  }

  private stopRenewing(): void {
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** Lease reads and writes time out after this: a lost request is retried well within the lease. */
  private get requestTimeoutMs(): number {
    return Math.max(50, this.opts.renewMs);
  }

  private renew(): Promise<void> {
    if (this.renewing || this.leaseRevision === 0) return this.renewal ?? Promise.resolve();
    const p = this.sendRenewal().finally(() => {
      if (this.renewal === p) this.renewal = undefined;
    });
    this.renewal = p;
    return p;
  }

  private async sendRenewal(): Promise<void> {
    this.renewing = true;
    this.renewalStartedAt = this.opts.mono();
    const epoch = this.epoch;
    const sentAt = this.opts.mono();
    const revision = this.leaseRevision;
    let again = false;
    try {
      const rev = await this.parts.lease.write(leaseValueFor(this.opts.writerId, this.term, this.opts.wall(), this.opts.leaseMs), revision, false, this.requestTimeoutMs);
      if (this.leaseRevision === revision) {
        this.leaseRevision = rev;
        this.renewalSentAt = sentAt;
      }
    } catch (e) {
      // Another renewal (after a reconnect) already moved on from this revision: nothing to do.
      if (this.leaseRevision !== revision) return;
      if (e instanceof LeaseTakenError) {
        if (await this.adoptLandedRenewal(revision)) {
          again = true;
          return;
        }
        this.leaseRevision = 0;
        void this.demote('the lease was taken by another cell-state', false);
      } else {
        this.opts.log.warn({ err: e, validForMs: Math.round((this.renewalSentAt ?? 0) + this.opts.leaseMs - this.opts.mono()) }, 'lease renewal failed; retrying');
      }
    } finally {
      if (epoch === this.epoch) {
        this.renewing = false;
        // Renew from the adopted revision at once (that extends the lease).
        if (again) void this.renew();
      }
    }
  }

  /**
   * A renewal found the key moved on from `revision`. When the key still holds our own holder and
   * term, the mover was our own earlier renewal whose answer was lost (timed out, or abandoned at a
   * reconnect): nobody else writes that value, so we still hold the lease at the key's revision.
   * Its validity is not extended (the send time of that renewal is unknown); the renewal that
   * follows at once does.
   */
  private async adoptLandedRenewal(revision: number): Promise<boolean> {
    try {
      const key = await this.parts.lease.read();
      if (key === null || key.deleted || key.value?.holder !== this.opts.writerId || key.value.term !== this.term) return false;
      if (this.leaseRevision !== revision || this.current !== 'leader') return false;
      this.leaseRevision = key.revision;
      this.opts.log.info({ revision: key.revision }, 'an earlier renewal had landed; renewing from its revision');
      return true;
    } catch {
      return false;
    }
  }

  /** Stops serving and becomes a standby; `release` hands the lease over at once when still ours. */
  demote(reason: string, release: boolean): Promise<void> {
    if (this.transition !== undefined) return this.transition;
    if (this.current !== 'leader' && this.current !== 'promoting') return Promise.resolve();
    this.transition = (async () => {
      this.to('demoting', reason);
      this.opts.log.warn({ reason, term: this.term, lastSeq: this.parts.model.lastSeq }, 'stepping down');
      this.stopRenewing();
      await this.parts.serving.stop().catch((e) => this.opts.log.warn({ err: e }, 'stopping the service failed'));
      await this.parts.writer.suspend('this cell-state is not the leader');
      await this.releaseLease(release);
      if (this.stopped) return;
      this.to('standby', reason);
      this.parts.follower.start();
    })().finally(() => { this.transition = undefined; });
    return this.transition;
  }

  private async releaseLease(release: boolean): Promise<void> {
    const rev = this.leaseRevision;
    this.leaseRevision = 0;
    this.renewalSentAt = undefined;
    this.obs = undefined;
    if (!release || rev === 0) return;
    try {
      await this.parts.lease.release(rev);
    } catch (e) {
      this.opts.log.info({ err: e }, 'lease not released (it moved on)');
    }
  }

  /** Graceful shutdown: a leader drains, writes its final snapshot and hands the lease over. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.checkTimer !== undefined) clearInterval(this.checkTimer);
    await this.promotion;
    await this.transition;
    if (this.current === 'leader') {
      await this.parts.serving.stop().catch((e) => this.opts.log.warn({ err: e }, 'stopping the service failed'));
      await this.parts.writer.close();
      if (this.parts.beforeRelease !== undefined) await this.parts.beforeRelease().catch((e) => this.opts.log.warn({ err: e }, 'final step before the hand-over failed'));
      this.stopRenewing();
      await this.releaseLease(true);
    } else {
      this.stopRenewing();
      await this.parts.follower.stop();
      await this.parts.writer.close();
    }
    if (this.current !== 'stopped') this.to('stopped', 'shutdown');
    this.settle();
  }
}
