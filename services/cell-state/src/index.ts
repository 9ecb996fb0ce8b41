/**
 * @tessera/cell-state as a library: the pure pieces a standby, snapshots or tests build on
 * (log record format, the model and `applyEntry`, the job table, listings).
 */
export * from './core/log-records.ts';
export * from './core/model.ts';
export * from './core/job-table.ts';
export * from './core/agents.ts';
export * from './core/listings.ts';
export * from './core/config.ts';
export * from './core/snapshot.ts';
export * from './core/lease.ts';
