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
}

export function natsConfigText(o: NatsConfigOptions): string {
  return [
    `server_name: ${JSON.stringify(o.serverName)}`,
    `listen: 127.0.0.1:${o.port}`,
    `http: 127.0.0.1:${o.monitorPort}`,
    'max_payload: 8MB',
    `jetstream { store_dir: ${JSON.stringify(join(o.dataDir, 'jetstream'))} }`,
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
