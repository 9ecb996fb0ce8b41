/** The HTTP side of every service: `/metrics` (Prometheus text) and `/healthz`. */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface Health {
  readonly ok: boolean;
  readonly [k: string]: unknown;
}

export interface HttpEndpoint {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startHttp(opts: { host?: string; port?: number; registry: Registry; health: () => Health }): Promise<HttpEndpoint> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': opts.registry.contentType }); res.end(text); },
        (e) => { res.writeHead(500); res.end(String(e)); },
      );
    } else if (path === '/healthz') {
      let h: Health;
      try { h = opts.health(); } catch (e) { h = { ok: false, error: String(e) }; }
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    server, port, url: `http://${host}:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
