/**
 * The open-loop arrival schedule (pure): job n is always the same real job (drawn from the trace's
 * empirical distribution by its own seeded rng), and the gap before it is a unit exponential (from
 * a second seeded rng) divided by the rate in force. Two independent streams, so changing the rate
 * at run time never changes *which* jobs are sent, only when: every mode of a comparison gets the
 * same jobs in the same order.
 */
import type { RandomSource } from '@tessera/workloads';

export class ArrivalClock {
  private rate: number;
  /** Due time (ms, on the caller's clock) of the next arrival. */
  next: number;

  constructor(private readonly gaps: RandomSource, rate: number, startMs: number) {
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rate must be a finite number > 0, got ${rate}`);
    this.rate = rate;
    this.next = startMs + this.gapMs();
  }

  private gapMs(): number {
    return (-Math.log(1 - this.gaps.next()) / this.rate) * 1000;
  }

  /**
   * Changes the rate from `nowMs` on. The time already waited towards the next arrival counts:
   * the remaining part of the current gap is rescaled by old/new rate (so a step up takes effect
   * at once, and the gap sequence stays the same draws).
   */
  setRate(rate: number, nowMs: number): void {
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rate must be a finite number > 0, got ${rate}`);
    if (this.next > nowMs) this.next = nowMs + ((this.next - nowMs) * this.rate) / rate;
    this.rate = rate;
  }

  /** After a pause: the next arrival is one fresh gap from now (no burst of the arrivals missed). */
  resume(nowMs: number): void {
    if (this.next < nowMs) this.next = nowMs + this.gapMs();
  }

  get currentRate(): number {
    return this.rate;
  }

  /** Due times of every arrival up to `nowMs` (advancing the clock). */
  due(nowMs: number): number[] {
    const out: number[] = [];
    while (this.next <= nowMs) {
      out.push(this.next);
      this.next += this.gapMs();
    }
    return out;
  }
}
