/**
 * Experiment (d): simulated conflicts beside ParSync's analytical estimate.
 *
 * ParSync (Feng et al., ATC'21) models one round: N schedulers, each placing K tasks on distinct
 * slots chosen uniformly at random among S idle slots, all from the same view. Slot s is chosen by
 * X_s ~ Binomial(N, K/S) schedulers and Y_s = max(0, X_s − 1) of them lose, so
 *   E(Y) = E(X) − 1 + P(X = 0) = N·K/S − 1 + (1 − K/S)^N   conflicts per slot.
 * The setup here makes those assumptions hold in the real simulator: S nodes of exactly one slot
 * each, all idle; every replica synced once at t = 0 and never again in the round; one job of K
 * tasks per scheduler, all submitted at t = 0; zero decision time and batch window, so every
 * proposal reaches the committer in the same batch; sampleSize 1 with equal scores, so placement
 * takes the first free slot from a seeded random start and stride, i.e. a uniform random free
 * slot; no retries. Simulated E(Y) = refused claims / S, averaged over seeds.
 */
import { ResourceSpace, validateJobSpec, type NodeRegistration } from '@tessera/core';
import { DEFAULT_SIM_CONFIG, Simulation, type SimConfig, type SimJob } from '../engine.ts';

export function expectedConflictsPerSlot(n: number, k: number, s: number): number {
  return (n * k) / s - 1 + (1 - k / s) ** n;
}

export interface AnalyticPoint {
  readonly schedulers: number;
  readonly slots: number;
  readonly tasksPerScheduler: number;
  readonly kOverS: number;
  readonly analytic: number;
  readonly simulatedMean: number;
  readonly simulatedStdErr: number;
  readonly repetitions: number;
}

const space = ResourceSpace.default;

/** Conflicts per slot in one simulated round. */
export function simulateRound(slots: number, schedulers: number, k: number, seed: number): number {
  const nodes: NodeRegistration[] = Array.from({ length: slots }, (_, i) => ({ id: `slot-${i}`, labels: {}, capacity: space.vector({ cpu_millis: 1000 }) }));
  const arrivals: SimJob[] = [];
  for (let j = 0; j < schedulers; j++) {
    const v = validateJobSpec({ id: `round-${j}`, tasks: [{ name: 't', count: k, resources: { cpu_millis: 1000 }, duration_s: 1e6 }] }, space);
    if (!v.ok) throw new Error(v.error.message);
    arrivals.push({ submitS: 0, job: v.job });
  }
  const config: SimConfig = {
    ...DEFAULT_SIM_CONFIG,
    schedulers,
    partitions: 1,
    syncIntervalMs: 1e12, // synced at t = 0 only
    mode: 'state-sync',
    sampleSize: 1,
    jobDecisionMs: 0,
    taskDecisionMs: 0,
    batchWindowMs: 0,
    maxTasksPerRound: Infinity,
    qualitySample: 0,
    seed,
    retry: { maxConflictRetries: 0, conflictWindowMs: 0, maxWaitMs: 0 },
  };
  const sim = new Simulation(config, space, nodes, arrivals);
  const st = sim.run();
  if (st.proposedClaims !== schedulers * k) throw new Error(`expected ${schedulers * k} claims in the round, got ${st.proposedClaims}`);
  return st.conflicts / slots;
}

export function analyticGrid(slots: number, schedulerCounts: readonly number[], kOverS: readonly number[], repetitions: number): AnalyticPoint[] {
  const out: AnalyticPoint[] = [];
  for (const n of schedulerCounts) {
    for (const f of kOverS) {
      const k = Math.round(f * slots);
      const xs: number[] = [];
      for (let r = 0; r < repetitions; r++) xs.push(simulateRound(slots, n, k, 1000 * n + r));
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1);
      out.push({
        schedulers: n, slots, tasksPerScheduler: k, kOverS: k / slots,
        analytic: round6(expectedConflictsPerSlot(n, k, slots)),
        simulatedMean: round6(mean),
        simulatedStdErr: round6(Math.sqrt(variance / xs.length)),
        repetitions,
      });
    }
  }
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
