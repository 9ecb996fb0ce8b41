/**
 * The KV lease under a NATS outage: a lease read or renewal lost with the server ends after the
 * lease's own short request timeout, not JetStream's default 5 s (longer than the whole lease).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@tessera/testkit';
import { KvLease } from '../../services/cell-state/src/shell/lease.ts';

describe('KvLease during a NATS outage', () => {
  let ns: NatsServerHandle | undefined;
  let nc: NatsConnection | undefined;
  afterEach(async () => {
    await nc?.close().catch(() => undefined);
    await ns?.stop().catch(() => undefined);
  });

  it('reads and renewals sent while the server is down fail after the short request timeout', async () => {
    ns = await startNatsServer();
    nc = await connect({ servers: ns.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const lease = await KvLease.open(nc, 'lease-outage-test', 1, 300);
    const value = { holder: 'a', term: 1, expiresAt: Date.now() + 1_500, leaseMs: 1_500 };
    const rev = await lease.write(value, 0, false, 300);
    expect((await lease.read())?.revision).toBe(rev);
    await ns.kill('SIGKILL');
    for (const op of [() => lease.read(), () => lease.write(value, rev, false, 300)]) {
      const t0 = performance.now();
      await expect(op()).rejects.toThrow();
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(1_500);
    }
  });
});
