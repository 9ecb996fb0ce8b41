export * from './sync-plan.ts';
export * from './retry.ts';
export * from './idempotency.ts';
export * from './job-run.ts';
export * from './replica.ts';
