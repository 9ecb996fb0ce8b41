/**
 * `tessera console [--port N] [--metrics URL…]` (until Ctrl-C) and the console of
 * `tessera up --console`: the live web page of `../console/server.ts` on loopback. The URL, with
 * its access token, is printed and written to `<cell dir>/console.url` (0600) for `up --detach`.
 */
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConsole, type ConsoleServer } from '../console/server.ts';
import type { ServiceRef } from '../console/collector.ts';
import { CliError } from './errors.ts';
import { connectTo, resolveTarget, type GlobalOptions } from './target.ts';

export const consoleUrlFile = (cellDir: string) => join(cellDir, 'console.url');

/** `--metrics` URLs: `cell-state=URL` or `URL` (a scheduler). */
export function parseMetricsUrls(list: string | undefined): ServiceRef[] {
  if (list === undefined || list.trim() === '') return [];
  return list.split(',').map((s, i) => {
    const m = /^(cell-state|scheduler)=(.+)$/.exec(s.trim());
    const url = m?.[2] ?? s.trim();
    if (!/^https?:\/\//.test(url)) throw new CliError(`--metrics: "${s}" is not an http(s) URL`, 2);
    const kind = (m?.[1] ?? 'scheduler') as ServiceRef['kind'];
    return { name: `${kind}@${new URL(url).host}#${i}`, kind, metricsUrl: url };
  });
}

export async function openConsole(g: GlobalOptions, port: number | undefined, metrics: string | undefined): Promise<ConsoleServer & { stop(): Promise<void> }> {
  const target = resolveTarget(g);
  const nc = await connectTo(target);
  let server: ConsoleServer;
  try {
    server = await startConsole({ nc, target, port, metricsUrls: parseMetricsUrls(metrics) });
  } catch (e) {
    await nc.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(code === 'EADDRINUSE' ? `port ${port} is in use` : `the console did not start: ${(e as Error).message}`, 1, { cause: e });
  }
  const file = consoleUrlFile(target.cellDir);
  try {
    writeFileSync(file, `${server.url}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  } catch { /* no cell folder (a remote --nats cell): the URL is printed only */ }
  return {
    ...server,
    stop: async () => {
      await server.close();
      await nc.close().catch(() => undefined);
      rmSync(file, { force: true });
    },
  };
}

export async function runConsole(g: GlobalOptions, port: number | undefined, metrics: string | undefined, out: (s: string) => void): Promise<never> {
  const c = await openConsole(g, port, metrics);
  out(`tessera console for cell "${g.cell}": ${c.url}`);
  out('serving on loopback only; Ctrl-C stops it');
  await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
  await c.stop();
  process.exit(0);
}

/** The URL a running `up --console` wrote, if any. */
export function readConsoleUrl(cellDir: string): string | undefined {
  try { return readFileSync(consoleUrlFile(cellDir), 'utf8').trim() || undefined; } catch { return undefined; }
}
