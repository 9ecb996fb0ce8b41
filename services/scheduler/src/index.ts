/** @tessera/scheduler: the pure service-side pieces (for tests and tools); run the service with src/main.ts. */
export * from './core/sync-batching.ts';
export * from './core/commit-batching.ts';
export * from './core/outcome.ts';
export * from './core/submission.ts';
export * from './core/mode-value.ts';
export { schedulerFlags, deriveConfig, type SchedulerConfig, type SchedulerFlags } from './config.ts';
