export * from './sync-plan.ts';
export * from './retry.ts';
export * from './idempotency.ts';
export * from './job-run.ts';
export * from './replica.ts';
export * from './job-queue.ts';
export * from './fifo-queue.ts';
export * from './drf-queue.ts';
