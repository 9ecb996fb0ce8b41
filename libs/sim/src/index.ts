/**
 * @tessera/sim: a deterministic discrete-event simulator running tessera's own core, policy and
 * replica code (not a model of them) over real traces or synthetic arrivals.
 */
export * from './engine.ts';
export * from './event-queue.ts';
export * from './samples.ts';
export * from './summary.ts';
export * from './workload.ts';
export * from './run.ts';
export * from './invariants.ts';
export * from './preemption.ts';
