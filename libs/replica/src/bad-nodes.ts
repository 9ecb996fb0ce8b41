/**
 * Bad-node tracking, after Nomad's plan-rejection tracker (nomad/plan_apply_node_tracker.go):
 * a node whose claims the committer keeps refusing while this replica keeps choosing it is held
 * ineligible for a while, so no replica loops on it. Nomad counts plan rejections per node in a
 * time window (100 in 5 min) and rate-limits how many nodes it marks; the same here, with numbers
 * for a cell where one refusal costs milliseconds, not a Raft round: `threshold` refusals within
 * `windowMs` mark the node for `holdMs`; at most `maxMarked` nodes are held at once, and at most
 * `burst` marks per `refillMs` (a token bucket), so a cell-wide storm of stale views (every node
 * refused) cannot make the whole cell ineligible. Only refusals that say the *node* was wrong
 * count (resources, version, constraint), not quota or duplicates. Pure: time passed in.
 */

export interface BadNodePolicy {
  readonly threshold: number;
  readonly windowMs: number;
  readonly holdMs: number;
  readonly maxMarked: number;
  readonly burst: number;
  readonly refillMs: number;
  /** Nodes tracked at most (the oldest entries are dropped first; Nomad keeps an LRU of 50). */
  readonly maxTracked: number;
}

export const DEFAULT_BAD_NODE_POLICY: BadNodePolicy = Object.freeze({
  threshold: 20,
  windowMs: 10_000,
  holdMs: 30_000,
  maxMarked: 32,
  burst: 8,
  refillMs: 5_000,
  maxTracked: 1_024,
});

export function checkBadNodePolicy(p: BadNodePolicy): void {
  for (const k of ['threshold', 'maxMarked', 'burst', 'maxTracked'] as const) {
    if (!Number.isInteger(p[k]) || p[k] < 1) throw new RangeError(`${k} must be an integer ≥ 1, got ${p[k]}`);
  }
  for (const k of ['windowMs', 'holdMs', 'refillMs'] as const) {
    if (!(p[k] > 0) || !Number.isFinite(p[k])) throw new RangeError(`${k} must be a finite number > 0, got ${p[k]}`);
  }
}

/** A node marked ineligible by {@link BadNodeTracker.record}. */
export interface BadNodeMark {
  readonly nodeId: string;
  readonly refusals: number;
  readonly until: number;
}

export class BadNodeTracker {
  readonly policy: BadNodePolicy;
  /** Refusal times per node, oldest first, within the window (Map order: least recently refused first). */
  private readonly history = new Map<string, number[]>();
  /** Held nodes → until when. */
  private readonly held = new Map<string, number>();
  private tokens: number;
  private refilledAt = 0;

  constructor(policy: Partial<BadNodePolicy> = {}) {
    this.policy = Object.freeze({ ...DEFAULT_BAD_NODE_POLICY, ...policy });
    checkBadNodePolicy(this.policy);
    this.tokens = this.policy.burst;
  }

  /** Whether the node is held ineligible at `now`. */
  isBad(nodeId: string, now: number): boolean {
    const until = this.held.get(nodeId);
    return until !== undefined && now < until;
  }

  /** Nodes held now. */
  get markedCount(): number {
    return this.held.size;
  }

  /**
   * One refused claim on `nodeId` at `now`. Returns the mark when this refusal made the node bad
   * (the caller reports it and stops placing there), else undefined.
   */
  record(nodeId: string, now: number): BadNodeMark | undefined {
    if (this.isBad(nodeId, now)) return undefined;
    let h = this.history.get(nodeId);
    if (h === undefined) {
      h = [];
      if (this.history.size >= this.policy.maxTracked) this.history.delete(this.history.keys().next().value as string);
    } else {
      this.history.delete(nodeId); // re-inserted below: the most recently refused is last
    }
    const from = now - this.policy.windowMs;
    let drop = 0;
    while (drop < h.length && h[drop] <= from) drop++;
    if (drop > 0) h.splice(0, drop);
    h.push(now);
    this.history.set(nodeId, h);
    if (h.length < this.policy.threshold) return undefined;
    this.refill(now);
    if (this.held.size >= this.policy.maxMarked || this.tokens < 1) return undefined;
    this.tokens--;
    const until = now + this.policy.holdMs;
    this.held.set(nodeId, until);
    this.history.delete(nodeId);
    return { nodeId, refusals: h.length, until };
  }

  /** Nodes whose hold ended by `now` (the caller makes them eligible again). */
  expire(now: number): string[] {
    const out: string[] = [];
    for (const [id, until] of this.held) {
      if (now >= until) {
        this.held.delete(id);
        out.push(id);
      }
    }
    return out;
  }

  private refill(now: number): void {
    if (this.refilledAt === 0) this.refilledAt = now;
    const add = Math.floor((now - this.refilledAt) / this.policy.refillMs);
    if (add <= 0) return;
    this.tokens = Math.min(this.policy.burst, this.tokens + add);
    this.refilledAt += add * this.policy.refillMs;
  }
}
