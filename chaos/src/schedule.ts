/**
 * The kill schedule, as data: a pure function of the run length and the seed, so a failing run
 * can be repeated kill for kill (`--seed`). Every kind is killed at least once, whatever the
 * length: the first kinds are a seeded shuffle of all four, the rest drawn at random.
 */
import { createRng, type Rng } from '@tessera/policy';

export const KILL_KINDS = ['cell-state', 'scheduler', 'node-agent', 'nats'] as const;
export type KillKind = (typeof KILL_KINDS)[number];

export interface PlannedKill {
  /** Nominal time of the kill, ms after the load started (the driver may run it later, see below). */
  readonly atMs: number;
  readonly kind: KillKind;
  /** Seeded choice of instance (the driver starts from the kind's first pick and takes instances in turn; `cell-state` always means the leader). */
  readonly pick: number;
  /** How long the killed process stays down before the driver starts it again. */
  readonly downMs: number;
}

export interface KillPlanOptions {
  /** Length of the loaded phase (ms). */
  readonly durationMs: number;
  readonly seed: string | number;
  /** No kill before this (the cell warms up under load first). */
  readonly warmupMs?: number;
  /** No kill scheduled in the last part of the run (the last kill gets time to recover). */
  readonly cooldownMs?: number;
  /** Mean spacing of kills; the count is window ÷ gap, at least one per kind. */
  readonly meanGapMs?: number;
  /** Down time is drawn uniformly from [min, max]. */
  readonly minDownMs?: number;
  readonly maxDownMs?: number;
}

export class KillPlanError extends Error {
  override readonly name = 'KillPlanError';
}

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Kills at evenly spaced slots over [warmup, duration − cooldown], each jittered inside the first
 * half of its slot. The driver runs a kill no earlier than planned and only once the cell
 * recovered from the previous one (kills never overlap, so each has its own recovery time).
 */
export function planKills(o: KillPlanOptions): PlannedKill[] {
  const warmupMs = o.warmupMs ?? 15_000;
  const cooldownMs = o.cooldownMs ?? 10_000;
  const meanGapMs = o.meanGapMs ?? 20_000;
  const minDownMs = o.minDownMs ?? 300;
  const maxDownMs = o.maxDownMs ?? 2_500;
  if (!(o.durationMs > 0) || !Number.isFinite(o.durationMs)) throw new KillPlanError(`durationMs must be a positive number, got ${o.durationMs}`);
  if (!(meanGapMs > 0)) throw new KillPlanError(`meanGapMs must be positive, got ${meanGapMs}`);
  if (!(minDownMs >= 0 && maxDownMs >= minDownMs)) throw new KillPlanError(`down time range [${minDownMs}, ${maxDownMs}] is empty`);
  // A short run shrinks warm-up and cool-down rather than dropping kinds.
  const roomy = o.durationMs - warmupMs - cooldownMs >= o.durationMs / 2;
  const start = roomy ? warmupMs : o.durationMs / 4;
  const window = roomy ? o.durationMs - warmupMs - cooldownMs : o.durationMs / 2;
  const count = Math.max(KILL_KINDS.length, Math.floor(window / meanGapMs));
  const rng = createRng(`chaos/${o.seed}/kills`);
  const kinds: KillKind[] = [...KILL_KINDS];
  while (kinds.length < count) kinds.push(KILL_KINDS[rng.int(KILL_KINDS.length)]);
  shuffle(rng, kinds);
  const slot = window / count;
  return kinds.map((kind, i) => ({
    atMs: Math.round(start + i * slot + rng.next() * slot * 0.5),
    kind,
    pick: rng.int(1_000),
    downMs: Math.round(minDownMs + rng.next() * (maxDownMs - minDownMs)),
  }));
}
