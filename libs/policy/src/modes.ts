/**
 * Placement modes (DESIGN §4) and the adaptive switch between quality-first and latency-first.
 */

export type PlacementMode = 'latency-first' | 'quality-first' | 'adaptive' | 'state-sync';
export const PLACEMENT_MODES: readonly PlacementMode[] = Object.freeze(['latency-first', 'quality-first', 'adaptive', 'state-sync'] as const);

/** What placement itself runs: `adaptive` is resolved to one of the others before placing. */
export type EffectiveMode = Exclude<PlacementMode, 'adaptive'>;
export const EFFECTIVE_MODES: readonly EffectiveMode[] = Object.freeze(['latency-first', 'quality-first', 'state-sync'] as const);

export function isPlacementMode(x: unknown): x is PlacementMode {
  return typeof x === 'string' && (PLACEMENT_MODES as readonly string[]).includes(x);
}

export interface AdaptiveModeOptions {
  /** Scheduling delay (ms) at or above which placement switches to latency-first. Default 1500. */
  readonly thresholdMs?: number;
  /**
   * Fraction of the threshold the delay must fall below to switch back to quality-first
   * (default 0.8). The gap keeps a delay hovering around the threshold from flapping the mode.
   */
  readonly hysteresis?: number;
}

/**
 * ParSync's adaptive mode: quality-first while the scheduling delay stays under the threshold,
 * latency-first once it reaches it, and back to quality-first only when the delay drops below
 * threshold × hysteresis. Feed it every observed delay; it returns the mode to place with.
 */
export class AdaptiveMode {
  readonly thresholdMs: number;
  readonly hysteresis: number;
  private mode: EffectiveMode = 'quality-first';

  constructor(opts: AdaptiveModeOptions = {}) {
    const thresholdMs = opts.thresholdMs ?? 1500;
    const hysteresis = opts.hysteresis ?? 0.8;
    if (!(thresholdMs > 0) || !Number.isFinite(thresholdMs)) throw new RangeError(`thresholdMs must be a finite number > 0, got ${thresholdMs}`);
    if (!(hysteresis > 0 && hysteresis <= 1)) throw new RangeError(`hysteresis must be in (0, 1], got ${hysteresis}`);
    this.thresholdMs = thresholdMs;
    this.hysteresis = hysteresis;
  }

  /** Records a scheduling delay (ms); NaN is ignored. Returns the mode to use now. */
  observe(delayMs: number): EffectiveMode {
    if (this.mode === 'quality-first') {
      if (delayMs >= this.thresholdMs) this.mode = 'latency-first';
    } else if (delayMs < this.thresholdMs * this.hysteresis) {
      this.mode = 'quality-first';
    }
    return this.mode;
  }

  get current(): EffectiveMode {
    return this.mode;
  }
}
