/** The node agent's pure core and shell pieces, for tests and the launcher. */
export * from './core/nodes.ts';
export * from './core/task-book.ts';
export * from './core/heartbeat.ts';
export * from './core/run-policy.ts';
export { agentConfigSchema, type AgentConfig } from './config.ts';
