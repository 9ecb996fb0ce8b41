/**
 * `tessera console`: a page on loopback showing the cell live (SSE), protected by a token
 * generated at start (printed in the URL; the first visit trades it for an HttpOnly SameSite=Strict
 * cookie). Only loopback Host headers are served (no DNS rebinding); the one state-changing call,
 * the mode switch, takes JSON from the page's own origin. Static files come from `cli/console/`:
 * no CDN, nothing fetched at run time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { PLACEMENT_MODE_NAMES } from '@tessera/protocol';
import { fetchJobSummaries } from '../shell/listings.ts';
import { setMode } from '../shell/mode.ts';
import type { CellTarget } from '../shell/target.ts';
import { ConsoleCollector, type ServiceRef } from './collector.ts';
import { jobRows } from './jobs-table.ts';

const ASSETS: Record<string, string> = { '/': 'index.html', '/console.js': 'console.js', '/console.css': 'console.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
const COOKIE = 'tessera_console';

export interface ConsoleOptions {
  readonly nc: NatsConnection;
  readonly target: CellTarget;
  /** 0 = a free port. */
  readonly port?: number;
  /** Default: 24 random bytes, hex. */
  readonly token?: string;
  readonly metricsUrls?: readonly ServiceRef[];
  readonly tickMs?: number;
}

export interface ConsoleServer {
  readonly port: number;
  readonly token: string;
  /** The URL to open (carries the token). */
  readonly url: string;
  readonly collector: ConsoleCollector;
  close(): Promise<void>;
}

function asset(name: string): Buffer {
  return readFileSync(fileURLToPath(new URL(`../../console/${name}`, import.meta.url)));
}

function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

async function readJson(req: IncomingMessage, maxBytes = 4096): Promise<unknown> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > maxBytes) throw new Error('body too large');
  }
  return JSON.parse(body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startConsole(o: ConsoleOptions): Promise<ConsoleServer> {
  const token = o.token ?? randomBytes(24).toString('hex');
  const collector = new ConsoleCollector({ nc: o.nc, target: o.target, metricsUrls: o.metricsUrls, tickMs: o.tickMs });
  const sse = new Set<ServerResponse>();
  let port = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const host = req.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}` && host !== `[::1]:${port}`) { send(res, 421, { error: 'loopback only' }); return; }
    if (sameSecret(url.searchParams.get('token') ?? undefined, token)) {
      res.writeHead(303, { location: url.pathname, 'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` });
      res.end();
      return;
    }
    const authorized = sameSecret(cookieOf(req), token) || sameSecret(req.headers.authorization?.replace(/^Bearer /, ''), token);
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('tessera console: open the URL printed by `tessera console` (it carries the access token)\n');
      return;
    }
    const file = ASSETS[url.pathname];
    if (req.method === 'GET' && file !== undefined) {
      res.writeHead(200, { 'content-type': TYPES[file.split('.').pop()!], 'cache-control': 'no-store', 'content-security-policy': "default-src 'self'; style-src 'self'; img-src 'self' data:" });
      res.end(asset(file));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`event: hello\ndata: ${JSON.stringify({ cell: o.target.cell, modes: PLACEMENT_MODE_NAMES, history: collector.history, frame: collector.lastFull })}\n\n`);
      sse.add(res);
      req.on('close', () => sse.delete(res));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/jobs') {
      const q = url.searchParams.get('q') ?? '';
      try {
        send(res, 200, await jobRows((r) => fetchJobSummaries(o.nc, o.target.subjects.queryJobs, r), q, Number(url.searchParams.get('limit') ?? 100)));
      } catch (e) {
        send(res, 502, { error: (e as Error).message });
      }
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/mode') {
      // The page's own origin only; JSON forces a CORS preflight on any other.
      if (req.headers.origin !== undefined && req.headers.origin !== `http://${host}`) { send(res, 403, { error: 'cross-origin request refused' }); return; }
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) { send(res, 415, { error: 'JSON only' }); return; }
      try {
        const body = await readJson(req) as { mode?: unknown; confirm?: unknown };
        if (body.confirm !== true) { send(res, 400, { error: 'confirm: true is required' }); return; }
        const r = await setMode(o.nc, o.target, String(body.mode));
        send(res, 200, { mode: body.mode, acknowledged: r.acknowledged });
      } catch (e) {
        send(res, 400, { error: (e as Error).message });
      }
      return;
    }
    send(res, 404, { error: 'not found' });
  };

  const server = createServer((req, res) => { handle(req, res).catch((e) => { if (!res.headersSent) send(res, 500, { error: String(e) }); else res.end(); }); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const unsubscribe = collector.subscribe((f) => {
    const line = `event: frame\ndata: ${JSON.stringify(f)}\n\n`;
    for (const res of sse) res.write(line);
  });
  const keepAlive = setInterval(() => { for (const res of sse) res.write(': keep-alive\n\n'); }, 15_000);
  keepAlive.unref();
  collector.start();
  return {
    port, token, url: `http://127.0.0.1:${port}/?token=${token}`, collector,
    close: async () => {
      collector.stop();
      unsubscribe();
      clearInterval(keepAlive);
      for (const res of sse) res.end();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
