import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceStartError, Supervised } from '../src/supervised.ts';

describe('Supervised', () => {
  it('a command that cannot be run fails the start at once with the reason (it used to wait forever)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-supervised-'));
    const s = new Supervised({
      name: 'nats', kind: 'nats', cwd: dir, logFile: join(dir, 'nats.log'), readiness: { kind: 'port', port: 1 },
      launch: () => ({ command: join(dir, 'no-such-nats-server'), args: [] }), readyTimeoutMs: 20_000, restart: false,
    });
    const t0 = Date.now();
    const err = await s.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceStartError);
    expect((err as Error).message).toMatch(/cannot run .*no-such-nats-server: .*ENOENT/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
