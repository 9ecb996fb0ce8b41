/** Structured JSON-lines logging (pino), injected everywhere; children carry service/replica ids. */
import { pino, destination, stdTimeFunctions, type Logger } from 'pino';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export function createLogger(service: string, level: LogLevel = 'info', bindings: Record<string, unknown> = {}): Logger {
  // Synchronous stderr writes keep the last lines of a crash; stdout stays free for CLI output.
  return pino({ level, base: { service, pid: process.pid, ...bindings }, timestamp: stdTimeFunctions.isoTime }, destination({ dest: 2, sync: true }));
}
