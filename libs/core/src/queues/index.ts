export * from './tree.ts';
export * from './queue-file.ts';
export * from './fairness.ts';
