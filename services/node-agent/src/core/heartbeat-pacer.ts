/**
 * When heartbeat rounds start; pure (no timers, no clock).
 *
 * Liveness is judged by cell-state: a node it hears nothing of for `--heartbeat-timeout-ms`
 * (10 s by default) is marked lost and its tasks are handed back. A heartbeat lost in flight (its
 * NATS server died, the cell-state leader died) must therefore never silence an agent for that
 * long. Three rules keep the gap between two heartbeats the cell receives to about two periods:
 * - one round's requests wait at most {@link heartbeatRequestTimeoutMs} (≤ the period) for an
 *   answer; a round that timed out is abandoned, not waited out;
 * - a timer tick that comes while a round is still out is not dropped: the next round starts as
 *   soon as that one ends;
 * - when the NATS client reconnects, the round out (most likely lost with the old connection) is
 *   abandoned and a new one starts at once.
 * Rounds are numbered; an abandoned round's late answers are ignored and it sends nothing more.
 */

/**
 * The timeout of one heartbeat request: the period itself (a request still unanswered when the
 * next is due is as good as lost), or less when asked, never below 50 ms.
 */
export function heartbeatRequestTimeoutMs(heartbeatMs: number, requested?: number): number {
  return Math.max(50, Math.min(heartbeatMs, requested ?? heartbeatMs));
}

export class HeartbeatPacer {
  private current = 0;
  private last = 0;
  private due = false;

  /** The round now out (0: none). */
  get out(): number {
    return this.current;
  }

  /** A tick of the heartbeat timer: the id of a round to start now, or undefined while one is out (it starts when that one ends). */
  tick(): number | undefined {
    if (this.current !== 0) {
      this.due = true;
      return undefined;
    }
    return this.start();
  }

  /** Round `id` ended (answered, failed or timed out): the id of a round to start at once if a tick came meanwhile. */
  ended(id: number): number | undefined {
    if (id !== this.current) return undefined; // abandoned earlier
    this.current = 0;
    if (!this.due) return undefined;
    return this.start();
  }

  /** The connection was re-established: the round out is abandoned; the id of the one to start now. */
  reconnected(): number {
    return this.start();
  }

  /** Whether round `id` may still send and act on answers. */
  isCurrent(id: number): boolean {
    return id === this.current;
  }

  private start(): number {
    this.due = false;
    this.current = ++this.last;
    return this.current;
  }
}
