export * from './nats-server.ts';
export * from './service-process.ts';
export * from './harness.ts';
export * from './builders.ts';
