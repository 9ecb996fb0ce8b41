export * from './logger.ts';
export * from './nats.ts';
export * from './http.ts';
export * from './metrics.ts';
export * from './lifecycle.ts';
export * from './flags.ts';
export * from './streams.ts';
export * from './credentials.ts';
