/**
 * High availability (DESIGN §5.4, §6): two cell-states of one cell, one leading, one following the
 * commit log. kill -9 the leader under a commit load: the standby takes over (measured), every
 * acknowledged commit is there, nothing is over-committed, replayed transaction ids get their
 * first outcome. A leader frozen past its lease (SIGSTOP) is deposed: when it wakes it does not
 * append and steps down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { WireTxnResult } from '@tessera/protocol';
import { startNatsServer, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { CellClient, claim, eventually, healthz, metricsText, metricValue, readCommitLog, startCellState, txn } from './helpers.ts';

const NODES = 6;
const CAPACITY = 1_000;

async function startRole(ns: NatsServerHandle, role: 'leader' | 'standby', extra: readonly string[] = []): Promise<ServiceProcess> {
  const cs = await startCellState(ns, ['--snapshot-every-entries', '100', ...extra]);
  const ready = cs.ready;
  if (ready.role !== role) throw new Error(`expected a ${role}, started a ${String(ready.role)}`);
  return cs;
}

describe('cell-state high availability', () => {
  let ns: NatsServerHandle;
  const procs: ServiceProcess[] = [];
  let c: CellClient;
  beforeAll(async () => {
    ns = await startNatsServer();
    c = new CellClient(await connect({ servers: ns.url }));
  });
  afterAll(async () => {
    await c?.nc.close();
    for (const p of procs) await p.kill('SIGKILL');
    await ns?.stop();
  });

  it('a standby takes over when the leader is killed under load: no acknowledged commit lost, no over-commit', async () => {
    let leader = await startRole(ns, 'leader');
    procs.push(leader);
    let standby = await startRole(ns, 'standby');
    procs.push(standby);
    expect(await healthz(leader)).toMatchObject({ role: 'leader', ok: true });
    expect(await healthz(standby)).toMatchObject({ role: 'standby', ok: true });
    expect(metricValue(await metricsText(leader), 'tessera_cell_leader')).toBe(1);
    expect(metricValue(await metricsText(standby), 'tessera_cell_leader')).toBe(0);

    await c.register('agent-h', Array.from({ length: NODES }, (_, i) => ({ id: `h-${i}`, cpu: CAPACITY, mem: 100_000 })));

    // Load: workers commit one-claim transactions; a transaction that got no answer is retried
    // with the same id until it gets one (what a scheduler does), then the next.
    const acked = new Map<string, WireTxnResult>();
    /** [sent, answered] of every answered commit request. */
    const answeredAt: [number, number][] = [];
    let stop = false;
    const workers = Array.from({ length: 4 }, (_, w) => (async () => {
      for (let i = 0; !stop; i++) {
        const task = `ha/w${w}/${i}`;
        const t = txn([claim(task, `h-${(w + i) % NODES}`, { cpu: 1, mem: 1 })], 'incremental', `ha-${w}-${i}`);
        while (!stop) {
          try {
            const sent = Date.now();
            const r = await c.commit([t], undefined, 2_000);
            acked.set(t.id, r.results[0]);
            answeredAt.push([sent, Date.now()]);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      }
    })());

    // A prober: a cheap request every 25 ms with a short timeout, so the time it takes to get an
    // answer again measures the takeover, not a client's timeout (the workers' requests in flight
    // at the kill wait out their 2 s).
    const probedAt: number[] = [];
    const prober = (async () => {
      while (!stop) {
        try {
          await c.nc.request(c.s.queryPartitions, new Uint8Array([0x80]), { timeout: 250 });
          probedAt.push(Date.now());
        } catch {
          // no responders / timeout: nobody leads right now
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();

    const takeovers: number[] = [];
    const commitsBack: number[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        await eventually(async () => acked.size >= 100 * (round + 1), 20_000, 'commits flowing');
        const killedAt = Date.now();
        await leader.kill('SIGKILL');
        const servedAt = await eventually(async () => probedAt.find((t) => t > killedAt), 20_000, 'service resumed after the kill');
        const resumedAt = await eventually(async () => answeredAt.find(([sent]) => sent > killedAt)?.[1], 20_000, 'commits resumed after the kill');
        takeovers.push(servedAt - killedAt);
        commitsBack.push(resumedAt - killedAt);
        await standby.waitForLog((l) => l.msg === 'leading', 5_000);
        // The killed one comes back as the new standby.
        const back = await startRole(ns, 'standby');
        procs.push(back);
        [leader, standby] = [standby, back];
      }
    } finally {
      stop = true;
      await Promise.all([...workers, prober]);
    }
    const sorted = [...takeovers].sort((a, b) => a - b);
    console.log(`[ha] serving again after kill -9 (ms): ${takeovers.join(', ')}; p50 ${sorted[Math.floor(sorted.length / 2)]}, max ${sorted.at(-1)};` +
      ` first commit answered (clients with a 2 s timeout): ${commitsBack.join(', ')}; last promotion: ${JSON.stringify((await healthz(leader)).lastPromotion)}`);
    for (const t of [...takeovers, ...commitsBack]) expect(t).toBeLessThan(10_000);

    // Every acknowledged commit is there: committing the task again is a duplicate.
    const committedTasks = [...acked.values()].flatMap((r) => r.committed);
    expect(committedTasks.length).toBeGreaterThan(300);
    for (let k = 0; k < committedTasks.length; k += 500) {
      const again = committedTasks.slice(k, k + 500).map((task, j) => txn([claim(task, `h-${j % NODES}`, { cpu: 1, mem: 1 })]));
      const r = await c.commit(again);
      for (const x of r.results) expect(x.rejected.map((y) => y.reason)).toEqual(['duplicate_task']);
    }
    // No over-commit, and every acknowledged claim is booked.
    const nodes = (await c.nodes()).items;
    const booked = nodes.reduce((s, n) => s + n.allocated.cpu_millis, 0);
    for (const n of nodes) expect(n.allocated.cpu_millis).toBeLessThanOrEqual(n.capacity.cpu_millis);
    expect(booked).toBeGreaterThanOrEqual(committedTasks.length);
    // Replayed transaction ids get their first outcome (some decided by each of the leaders).
    const sample = [...acked.values()].filter((_, i) => i % 37 === 0);
    const replays = await c.commit(sample.map((r) => txn([claim('ha/other/0', 'h-0', { cpu: 1 })], 'incremental', r.txnId)));
    replays.results.forEach((r, i) => expect(r).toMatchObject({ replayed: true, committed: sample[i].committed, rejected: sample[i].rejected, seq: sample[i].seq }));
    // One leader at the end, the other follows.
    expect((await healthz(leader)).role).toBe('leader');
    await eventually(async () => (await healthz(standby)).lastSeq === (await healthz(leader)).lastSeq, 10_000, 'the standby follows the log');
    // With a standby following, the standby writes the snapshots (its copy costs the commit path
    // nothing); the leader only when the stored one gets 1.5 × too old.
    for (let i = 0; i < 120; i++) await c.commit([txn([claim(`ha/tail/${i}`, `h-${i % NODES}`, { cpu: 1, mem: 1 })])]);
    await eventually(async () => standby.logs().some((l) => l.msg === 'snapshot written' && l.role === 'standby'), 10_000, 'a snapshot written by the standby');
    const written = procs.flatMap((p) => p.logs().filter((l) => l.msg === 'snapshot written'));
    console.log(`[ha] snapshots written: ${written.map((l) => `${String(l.role)}@${String(l.seq)}`).join(' ')}`);
  });

  it('a leader frozen past its lease is deposed: on waking it does not append and steps down', async () => {
    const leader = procs.find((p) => p.child.exitCode === null && p.child.signalCode === null && p.logs().some((l) => l.msg === 'leading'))!;
    const standby = procs.find((p) => p !== leader && p.child.exitCode === null && p.child.signalCode === null)!;
    expect((await healthz(leader)).role).toBe('leader');
    const oldWriter = (await healthz(leader)).writer as string;
    const v = await c.nodeVersion('h-0');

    leader.child.kill('SIGSTOP');
    let resumed = false;
    try {
      await standby.waitForLog((l) => l.msg === 'leading' && l.previous === oldWriter, 20_000);
      const r = await eventually(() => c.commit([txn([claim('frozen/t/0', 'h-0', { cpu: 1, mem: 1 }, v)], 'incremental', 'during-freeze')], undefined, 2_000), 10_000, 'the new leader commits');
      expect(r.results[0].committed).toEqual(['frozen/t/0']);
    } finally {
      leader.child.kill('SIGCONT');
      resumed = true;
    }
    expect(resumed).toBe(true);
    const down = await leader.waitForLog((l) => l.msg === 'stepping down', 10_000);
    expect(String(down.reason)).toMatch(/lease/);
    await eventually(async () => (await healthz(leader)).role === 'standby', 10_000, 'the deposed leader is a standby');
    expect(metricValue(await metricsText(leader), 'tessera_cell_leader')).toBe(0);
    // It follows the new leader's log, and never appended after the new leader's fencing entry.
    const newWriter = (await healthz(standby)).writer as string;
    await c.commit([txn([claim('frozen/t/1', 'h-1', { cpu: 1, mem: 1 })], 'incremental', 'after-wake')]);
    await eventually(async () => (await healthz(leader)).lastSeq === (await healthz(standby)).lastSeq, 10_000, 'the deposed leader follows');
    const entries = await readCommitLog(c.nc);
    const fence = entries.findIndex((e) => e.writer === newWriter && e.records.some((r) => r.t === 'leader'));
    expect(fence).toBeGreaterThan(0);
    expect(entries.slice(fence).filter((e) => e.writer === oldWriter)).toEqual([]);
    // Still exactly one answer per request: the replay of a transaction decided during the freeze.
    const again = await c.commit([txn([claim('frozen/t/9', 'h-0', { cpu: 1 })], 'incremental', 'during-freeze')]);
    expect(again.results[0]).toMatchObject({ replayed: true, committed: ['frozen/t/0'] });
  });
});
