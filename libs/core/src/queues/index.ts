export * from './tree.ts';
export * from './queue-file.ts';
