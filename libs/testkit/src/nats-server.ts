/**
 * Starts a throwaway real nats-server (JetStream on, file storage in a temp folder) on a free
 * loopback port, for tests and the local launcher. Never a mock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { freePort, natsServerBinary } from '@tessera/launcher';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// One lookup of the binary and one free-port picker for the launcher and the tests.
export { freePort, natsServerBinary };

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = netConnect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nats-server did not listen on ${port} within ${timeoutMs} ms`);
}

export interface NatsServerOptions {
  /** Reuse a data folder (to test restarts); a temp one is made otherwise. */
  readonly dataDir?: string;
  readonly port?: number;
  /** Extra config text appended to the generated config (e.g. a cluster block). */
  readonly extraConfig?: string;
  readonly serverName?: string;
}

export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly configFile: string;
  process(): ChildProcess;
  /** kill -9 (or another signal) without cleanup, to simulate a crash. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data folder. */
  restart(): Promise<void>;
  /** Stops the server and removes a temp data folder. */
  stop(): Promise<void>;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tessera-nats-'));
  const configFile = join(dataDir, `nats-${port}.conf`);
  writeFileSync(
    configFile,
    [
      `server_name: ${JSON.stringify(opts.serverName ?? `tessera-${port}`)}`,
      `listen: 127.0.0.1:${port}`,
      'max_payload: 8MB',
      `jetstream { store_dir: ${JSON.stringify(join(dataDir, 'jetstream'))} }`,
      opts.extraConfig ?? '',
    ].join('\n'),
  );
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(natsServerBinary(), ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const exited = new Promise<never>((_, reject) => {
      child.once('error', (e) => reject(new Error(`cannot start nats-server (${natsServerBinary()}): ${e.message}. Run 'sh scripts/bootstrap.sh' or install Debian's nats-server.`)));
      child.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${stderr}`)));
    });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, 10_000), exited]);
  };
  await launch();
  const waitExit = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    dataDir,
    configFile,
    process: () => child,
    kill: async (signal = 'SIGKILL') => { child.kill(signal); await waitExit(child); },
    restart: async () => { await launch(); },
    stop: async () => {
      child.kill('SIGTERM');
      await waitExit(child);
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
