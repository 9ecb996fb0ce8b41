/**
 * A NATS outage longer than the leader lease (the chaos run's 1.7 s against a 1.5 s lease): the
 * leader steps down while NATS is away, and once NATS is back a cell-state leads again at once —
 * the lease reads lost with the server are abandoned at the reconnect instead of being waited out
 * for JetStream's default 5 s request timeout (measured).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { nodesListingReply, subjectsFor } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { startNatsServer, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { CellClient, healthz, startCellState } from './helpers.ts';

describe('cell-state after a NATS outage longer than the lease', () => {
  let ns: NatsServerHandle;
  const procs: ServiceProcess[] = [];
  let c: CellClient;
  beforeAll(async () => {
    ns = await startNatsServer();
    c = new CellClient(await connect({ servers: ns.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 }));
  });
  afterAll(async () => {
    await c?.nc.close();
    for (const p of procs) await p.kill('SIGKILL');
    await ns?.stop();
  });

  it('serves again soon after NATS is back (not after a 5 s request timeout)', async () => {
    procs.push(await startCellState(ns));
    expect(procs[0].ready.role).toBe('leader');
    procs.push(await startCellState(ns));
    expect(procs[1].ready.role).toBe('standby');
    const subjects = subjectsFor('default');
    const probe = () => request(c.nc, subjects.queryNodes, { offset: 0, limit: 1 }, nodesListingReply, { timeoutMs: 250 });
    await probe();
    // Let the standby's lease reads run, then take NATS away for longer than the lease.
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await ns.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_700));
    await ns.restart();
    const backAt = Date.now();
    let servedAt: number | undefined;
    while (servedAt === undefined && Date.now() - backAt < 15_000) {
      try {
        await probe();
        servedAt = Date.now();
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    expect(servedAt).toBeDefined();
    const roles = await Promise.all(procs.map(async (p) => (await healthz(p)).role));
    console.log(`[ha-nats] outage 1.7 s: serving again ${servedAt! - killedAt} ms after the kill, ${servedAt! - backAt} ms after NATS was back; roles ${roles.join(', ')}`);
    expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
    // Reconnect (≤ 250 ms wait) + JetStream recovery + read + promotion: well under the 5 s default timeout.
    expect(servedAt! - backAt).toBeLessThan(1_500);
  });
});
