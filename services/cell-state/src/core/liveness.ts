/**
 * Liveness decisions, pure (time passed in): which silent nodes one check marks lost, and when
 * the cell-state must distrust its own silence measure instead.
 *
 * A node is silent when its liveness clock (last heartbeat, or the last clock restart) is older
 * than the heartbeat timeout. But silence is measured by the cell-state: when it could not listen
 * (its event loop stalled, its NATS connection was down), every node looks silent at once while
 * the agents are fine. So:
 *  - a check that runs much later than planned (`stallMs`) means the cell-state itself stalled:
 *    nothing is marked lost, every node's liveness clock restarts instead (the shell reuses the
 *    takeover's `startClocks`); the NATS connection's disconnect/reconnect is handled the same way
 *    by the shell;
 *  - one check marks at most `burstLimit` nodes lost (a large fraction of the cell at once),
 *    unless other nodes' heartbeats are demonstrably arriving (at least half of the nodes not
 *    silent were heard by a real heartbeat within the timeout): then the silent ones really are
 *    silent (an agent died) and all are marked. The longest-silent go first; the rest are checked
 *    again at the next tick.
 */
import type { CellModel } from './model.ts';

export interface LivenessPolicy {
  readonly timeoutMs: number;
  /** How often the shell checks. */
  readonly periodMs: number;
  /** A check at least this late (beyond its period) means the cell-state stalled. */
  readonly stallMs: number;
  /** Share of the live nodes one check may mark lost without evidence that the others are heard. */
  readonly maxLostFraction: number;
  /** …but never fewer than this many (small cells, a single agent). */
  readonly minLostBurst: number;
}

/** The defaults for a heartbeat timeout: check every timeout/4 (50 ms–1 s), stall at timeout/3. */
export function livenessPolicy(timeoutMs: number, over: Partial<Omit<LivenessPolicy, 'timeoutMs'>> = {}): LivenessPolicy {
  const periodMs = over.periodMs ?? Math.max(50, Math.min(1_000, Math.floor(timeoutMs / 4)));
  return {
    timeoutMs,
    periodMs,
    stallMs: over.stallMs ?? Math.max(2 * periodMs, Math.floor(timeoutMs / 3)),
    maxLostFraction: over.maxLostFraction ?? 0.1,
    minLostBurst: over.minLostBurst ?? 8,
  };
}

export type LivenessDecision =
  /** The check came `lateMs` late: the cell-state could not listen; restart every clock, mark nothing. */
  | { readonly kind: 'stalled'; readonly lateMs: number }
  | {
    readonly kind: 'check';
    /** Nodes to mark lost now. */
    readonly lost: string[];
    /** Silent nodes held back by the burst limit (checked again next time). */
    readonly held: number;
    /** The burst limit that applied. */
    readonly limit: number;
  };

/** Largest number of nodes one check marks lost without evidence that the others are heard. */
export function burstLimit(liveNodes: number, policy: LivenessPolicy): number {
  return Math.max(policy.minLostBurst, Math.ceil(liveNodes * policy.maxLostFraction));
}

export interface LivenessInput {
  /** Node id → ms of its liveness clock (last heartbeat or clock restart). */
  readonly lastHeard: ReadonlyMap<string, number>;
  /** Node id → ms of its last real heartbeat (clock restarts do not count). */
  readonly lastBeat: ReadonlyMap<string, number>;
  /** Nodes whose `lost` record is on its way to the log. */
  readonly inFlight: ReadonlySet<string>;
  readonly now: number;
  /** When the previous check ran (undefined: the first since serving started). */
  readonly previousCheck: number | undefined;
}

export function decideLiveness(model: CellModel, input: LivenessInput, policy: LivenessPolicy): LivenessDecision {
  const { now, lastHeard, lastBeat } = input;
  if (input.previousCheck !== undefined) {
    const lateMs = now - input.previousCheck - policy.periodMs;
    if (lateMs >= policy.stallMs) return { kind: 'stalled', lateMs };
  }
  const silent: { id: string; heard: number }[] = [];
  let live = 0;
  let othersHeard = 0;
  let silentInFlight = 0;
  for (const n of model.cell.nodes) {
    if (n.condition === 'lost') continue;
    live++;
    const heard = lastHeard.get(n.id);
    if (heard === undefined || now - heard > policy.timeoutMs) {
      if (input.inFlight.has(n.id)) silentInFlight++;
      else silent.push({ id: n.id, heard: heard ?? -Infinity });
    } else {
      const beat = lastBeat.get(n.id);
      if (beat !== undefined && now - beat <= policy.timeoutMs) othersHeard++;
    }
  }
  const limit = burstLimit(live, policy);
  const others = live - silent.length - silentInFlight;
  const othersArriving = others > 0 && othersHeard * 2 >= others;
  if (silent.length <= limit || othersArriving) return { kind: 'check', lost: silent.map((s) => s.id), held: 0, limit };
  silent.sort((a, b) => a.heard - b.heard);
  return { kind: 'check', lost: silent.slice(0, limit).map((s) => s.id), held: silent.length - limit, limit };
}
