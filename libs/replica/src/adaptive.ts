/**
 * The adaptive mode as the replica runs it: policy's delay switch (AdaptiveMode: quality-first
 * while jobs finish within the threshold, latency-first above it, hysteresis between) *and* the
 * recent conflict rate. Deciding on delay alone came too late under overload: by the time jobs
 * are slow, quality-first's choices on stale partitions are already refused by the tens of
 * percent, and the retries keep the delay high, so the switch back never came either. Here a
 * conflict rate above `conflictThreshold` (an exponentially decaying average over claims, with
 * half-life `halfLifeMs`) also selects latency-first, and quality-first comes back only once both
 * the delay and the conflict rate are under their thresholds × hysteresis. Pure: time passed in.
 */
import { AdaptiveMode, type AdaptiveModeOptions, type EffectiveMode } from '@tessera/policy';

export interface ConflictAwareAdaptiveOptions extends AdaptiveModeOptions {
  /** Refused fraction of claims at or above which placement goes latency-first (default 0.1). */
  readonly conflictThreshold?: number;
  /** Half-life (ms) of the conflict rate's average (default 2000). */
  readonly halfLifeMs?: number;
}

export class ConflictAwareAdaptive {
  readonly conflictThreshold: number;
  readonly halfLifeMs: number;
  private readonly delay: AdaptiveMode;
  /** Decayed sums of refused and proposed claims, as of `at`. */
  private refused = 0;
  private proposed = 0;
  private at = 0;
  private conflictHigh = false;

  constructor(opts: ConflictAwareAdaptiveOptions = {}) {
    this.delay = new AdaptiveMode(opts);
    this.conflictThreshold = opts.conflictThreshold ?? 0.1;
    this.halfLifeMs = opts.halfLifeMs ?? 2_000;
    if (!(this.conflictThreshold > 0 && this.conflictThreshold <= 1)) throw new RangeError(`conflictThreshold must be in (0, 1], got ${this.conflictThreshold}`);
    if (!(this.halfLifeMs > 0) || !Number.isFinite(this.halfLifeMs)) throw new RangeError(`halfLifeMs must be a finite number > 0, got ${this.halfLifeMs}`);
  }

  /** The decayed conflict rate at `now` (0 with nothing observed). */
  conflictRate(now: number): number {
    this.decay(now);
    return this.proposed > 0 ? this.refused / this.proposed : 0;
  }

  /** A job's scheduling delay (ms). */
  observeDelay(delayMs: number): EffectiveMode {
    this.delay.observe(delayMs);
    return this.current;
  }

  /** One answer of the committer: claims committed and refused (conflicts). */
  observeClaims(committed: number, refused: number, now: number): EffectiveMode {
    this.decay(now);
    this.refused += refused;
    this.proposed += committed + refused;
    const rate = this.proposed > 0 ? this.refused / this.proposed : 0;
    if (!this.conflictHigh && rate >= this.conflictThreshold) this.conflictHigh = true;
    else if (this.conflictHigh && rate < this.conflictThreshold * this.delay.hysteresis) this.conflictHigh = false;
    return this.current;
  }

  get current(): EffectiveMode {
    return this.conflictHigh ? 'latency-first' : this.delay.current;
  }

  private decay(now: number): void {
    if (now <= this.at) return;
    const f = 0.5 ** ((now - this.at) / this.halfLifeMs);
    this.refused *= f;
    this.proposed *= f;
    this.at = now;
  }
}
