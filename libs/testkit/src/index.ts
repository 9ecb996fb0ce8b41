export * from './nats-server.ts';
export * from './service-process.ts';
