/** The CLI's pure pieces (job files, summaries, metrics text), for tests and other tools. */
export * from './core/job-file.ts';
export * from './core/prom-text.ts';
export * from './core/summary.ts';
export * from './core/tables.ts';
