export * from './sync-plan.ts';
export * from './retry.ts';
export * from './idempotency.ts';
export * from './job-run.ts';
export * from './replica.ts';
export * from './adaptive.ts';
export * from './admission.ts';
export * from './bad-nodes.ts';
