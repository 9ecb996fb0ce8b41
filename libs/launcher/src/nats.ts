/**
 * The embedded nats-server: JetStream with file storage under the cell's data folder, on
 * loopback, with `max_payload: 8MB` (the bus codec's limit) and the monitoring port on, so the
 * state file can point at `/varz`. The same config approach as @tessera/testkit's startNatsServer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NatsConfigOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly serverName: string;
  /** Path of the accounts file to include (`auth.ts`), relative to the config file or absolute. */
  readonly include?: string;
  /** Serve TLS with this certificate (clients must trust its CA). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export function natsConfigText(o: NatsConfigOptions): string {
  return [
    `server_name: ${JSON.stringify(o.serverName)}`,
    `listen: 127.0.0.1:${o.port}`,
    `http: 127.0.0.1:${o.monitorPort}`,
    'max_payload: 8MB',
    `jetstream { store_dir: ${JSON.stringify(join(o.dataDir, 'jetstream'))} }`,
    ...(o.tls !== undefined ? [`tls { cert_file: ${JSON.stringify(o.tls.cert)}, key_file: ${JSON.stringify(o.tls.key)}, timeout: 5 }`] : []),
    ...(o.include !== undefined ? [`include ${JSON.stringify(o.include)}`] : []),
    '',
  ].join('\n');
}

/** Writes the config file and returns its path. */
export function writeNatsConfig(o: NatsConfigOptions): string {
  mkdirSync(o.dataDir, { recursive: true });
  const file = join(o.dataDir, 'nats.conf');
  writeFileSync(file, natsConfigText(o));
  return file;
}
