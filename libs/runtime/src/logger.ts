/** Structured JSON-lines logging (pino), injected everywhere; children carry service/replica ids. */
import { pino, destination, stdTimeFunctions, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export function createLogger(service: string, level: LogLevel = 'info', bindings: Record<string, unknown> = {}): Logger {
  // Synchronous stderr writes keep the last lines of a crash; stdout stays free for CLI output.
  return pino({ level, base: { service, pid: process.pid, ...bindings }, timestamp: stdTimeFunctions.isoTime }, destination({ dest: 2, sync: true }));
}

/**
 * The `listening` line is a contract (launchers and tests wait for it), so it is written at info
 * even when the service runs at a quieter level such as `warn`.
 */
export function announceListening(log: Logger, fields: Record<string, unknown>): void {
  log.child({}, { level: 'info' }).info(fields, 'listening');
}
