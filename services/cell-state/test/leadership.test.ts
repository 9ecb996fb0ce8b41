/**
 * Leadership against an in-memory lease and commit log (fake timers, so no test depends on the
 * machine's speed): election, the fencing entry, renewals, and every way a leader steps down —
 * lease not renewable, lease taken, an append refused by the fence — plus the hand-over on
 * shutdown. The safety property: a standby never leads while the old leader still serves.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@tessera/runtime';
import type { LeaseKey, LeaseValue } from '../src/core/lease.ts';
import { decodeEntry } from '../src/core/log-records.ts';
import type { CellModel } from '../src/core/model.ts';
import { LeaseTakenError, type LeasePort } from '../src/shell/lease.ts';
import { Leadership, type Role } from '../src/shell/leadership.ts';
import type { CellMetrics } from '../src/shell/metrics.ts';
import { LogWriter } from '../src/shell/writer.ts';
import { claimTxn, model } from './builders.ts';
import { MemLog } from './mem-log.ts';

const silent = createLogger('test', 'silent');
const quietMetrics: CellMetrics = { countResults() {}, observeBatch() {}, refused() {}, refusedIdentity() {}, appendFailed() {} };
const TIMING = { leaseMs: 1_500, renewMs: 400, checkMs: 200 };

/** One key with compare-and-set on its revision, like the KV bucket. */
class MemLease implements LeasePort {
  revision = 0;
  deleted = false;
  value: LeaseValue | undefined;
  async read(): Promise<LeaseKey> {
    await Promise.resolve();
    return this.revision === 0 ? null : { revision: this.revision, deleted: this.deleted, value: this.value };
  }
  async write(value: LeaseValue, revision: number): Promise<number> {
    await Promise.resolve();
    if (revision !== this.revision) throw new LeaseTakenError(`at ${this.revision}, not ${revision}`);
    this.value = value;
    this.deleted = false;
    return ++this.revision;
  }
  async release(revision: number): Promise<void> {
    if (revision !== this.revision) throw new LeaseTakenError('moved on');
    this.deleted = true;
    this.value = undefined;
    this.revision++;
  }
}

/** A cell-state's lease port that can be cut off (its requests never return: a crash or a partition). */
class Cuttable implements LeasePort {
  cut = false;
  constructor(private readonly inner: LeasePort) {}
  private gate<T>(p: () => Promise<T>): Promise<T> {
    return this.cut ? new Promise<T>(() => undefined) : p();
  }
  read() { return this.gate(() => this.inner.read()); }
  write(v: LeaseValue, r: number, d: boolean, t: number) { return this.gate(() => this.inner.write(v, r, d, t)); }
  release(r: number) { return this.gate(() => this.inner.release(r)); }
}

interface Node {
  readonly name: string;
  readonly leadership: Leadership;
  readonly writer: LogWriter;
  readonly model: CellModel;
  readonly port: Cuttable;
  readonly serving: { starts: number; stops: number; active: boolean };
  readonly roles: Role[];
  released: number;
}

function cellState(name: string, lease: LeasePort, log: MemLog): Node {
  const m = model();
  const port = new Cuttable(lease);
  const serving = { starts: 0, stops: 0, active: false };
  const roles: Role[] = [];
  // eslint-disable-next-line prefer-const -- the writer's callbacks need it declared first
  let leadership: Leadership;
  const writer = new LogWriter(m, log, {
    writerId: name, batchMs: 0, batchMaxTxns: 64, appendTimeoutMs: 1_000, now: () => Date.now(), log: silent, metrics: quietMetrics,
    onEffects: () => undefined, mayAppend: () => leadership.mayAppend(), onFenced: () => leadership.onFenced(),
  });
  void writer.suspend('standby');
  const node: Node = {
    name, writer, model: m, port, serving, roles, released: 0,
    leadership: undefined as unknown as Leadership,
  };
  leadership = new Leadership({
    lease: port, commitLog: log, model: m, writer,
    follower: { start() {}, async stop() {} },
    serving: {
      async start() { serving.starts++; serving.active = true; },
      async stop() { serving.stops++; serving.active = false; },
    },
    beforeRelease: async () => { node.released++; },
    onRole: (r) => roles.push(r),
  }, { writerId: name, ...TIMING, log: silent, mono: () => Date.now(), wall: () => Date.now() });
  (node as { leadership: Leadership }).leadership = leadership;
  return node;
}

async function until(cond: () => boolean, what: string, maxMs = 20_000): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > maxMs) throw new Error(`not within ${maxMs} ms (fake time): ${what}`);
    await vi.advanceTimersByTimeAsync(10);
  }
  return Date.now() - t0;
}

/** Awaits `p` while fake time runs (the writer and the lease work on timers). */
async function run<T>(p: Promise<T>, maxMs = 20_000): Promise<T> {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  p.then((v) => { value = v; done = true; }, (e) => { error = e; done = true; });
  await until(() => done, 'a promise', maxMs);
  if (error !== undefined) throw error;
  return value as T;
}

function leaderEntries(log: MemLog): { writer: string; term: number }[] {
  return log.entries.flatMap((b) => {
    const d = decodeEntry(b);
    return d.ok ? d.entry.records.filter((r) => r.t === 'leader').map((r) => ({ writer: d.entry.writer, term: (r as { term: number }).term })) : [];
  });
}

describe('Leadership', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('alone: takes the free lease, appends its fencing entry, then serves', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    const settled = a.leadership.settled(10_000);
    await until(() => a.leadership.role === 'leader', 'a leads');
    expect(await settled).toBe('leader');
    expect(a.roles).toEqual(['standby', 'promoting', 'leader']);
    expect(leaderEntries(log)).toEqual([{ writer: 'a', term: 1 }]);
    expect(a.serving).toMatchObject({ starts: 1, active: true });
    expect(a.leadership.isLeading()).toBe(true);
    // Renewals keep the lease (and move its revision on).
    const rev = lease.revision;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lease.revision).toBeGreaterThan(rev + 5);
    expect(a.leadership.isLeading()).toBe(true);
    expect(lease.value).toMatchObject({ holder: 'a', term: 1 });
  });

  it('a standby takes over only after the cut-off leader stopped serving; the old one cannot append', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    await until(() => a.leadership.role === 'leader', 'a leads');
    const b = cellState('b', lease, log);
    b.leadership.start();
    expect(await run(b.leadership.settled(5_000))).toBe('standby');

    a.port.cut = true; // a's renewals no longer get through (crash, partition, freeze)
    const cutAt = Date.now();
    let aServedWhileBLed = false;
    await until(() => {
      if (b.leadership.role === 'leader' && a.leadership.isLeading()) aServedWhileBLed = true;
      return b.leadership.role === 'leader';
    }, 'b leads');
    expect(aServedWhileBLed).toBe(false);
    expect(a.serving.active).toBe(false);
    expect(a.leadership.role).toBe('standby');
    const took = Date.now() - cutAt;
    expect(took).toBeGreaterThanOrEqual(TIMING.leaseMs - TIMING.renewMs);
    expect(took).toBeLessThanOrEqual(TIMING.leaseMs + TIMING.renewMs + 2 * TIMING.checkMs + 100);
    expect(leaderEntries(log)).toEqual([{ writer: 'a', term: 1 }, { writer: 'b', term: 2 }]);
    // a refuses work as a standby.
    expect(await run(a.writer.commit([claimTxn('t', [])]))).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('steps down when an append fails on the fence, hands the lease over, and (alone) leads again after catching up', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    await until(() => a.leadership.role === 'leader', 'a leads');
    await run(a.writer.append({ t: 'register', agent: 'x', nodes: [{ id: 'n1', labels: {}, capacity: [1000, 0, 0] }] }));
    // Another writer appends behind a's back.
    log.appendForeign({ at: 1, writer: 'intruder', records: [{ t: 'register', agent: 'y', nodes: [{ id: 'n2', labels: {}, capacity: [5, 0, 0] }] }] });
    const out = await run(a.writer.commit([claimTxn('t1', [{ task: 'j/t/0', node: 'n1', cpu: 10 }])]));
    expect(out).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    await until(() => a.roles.includes('demoting'), 'a steps down');
    await until(() => a.leadership.role === 'leader', 'a leads again');
    expect(a.roles).toEqual(['standby', 'promoting', 'leader', 'demoting', 'standby', 'promoting', 'leader']);
    expect(a.leadership.leaseTerm).toBe(2);
    expect(a.model.cell.node('n2')).toBeDefined();
    expect(a.serving).toMatchObject({ starts: 2, stops: 1, active: true });
    const again = await run(a.writer.commit([claimTxn('t1', [{ task: 'j/t/0', node: 'n1', cpu: 10 }])]));
    expect(again.ok && again.value[0].committed).toEqual(['j/t/0']);
  });

  it('after a NATS outage longer than the lease, the standby reads the lease again at the reconnect and takes over at once', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    await until(() => a.leadership.role === 'leader', 'a leads');
    const b = cellState('b', lease, log);
    b.leadership.start();
    expect(await run(b.leadership.settled(5_000))).toBe('standby');
    // The outage: every request out is lost with the server (never answered).
    a.port.cut = true;
    b.port.cut = true;
    await vi.advanceTimersByTimeAsync(1_700);
    expect(a.leadership.role).toBe('standby');
    expect(a.serving.active).toBe(false);
    a.port.cut = false;
    b.port.cut = false;
    const back = Date.now();
    a.leadership.reconnected();
    b.leadership.reconnected();
    let both = false;
    await until(() => {
      if (a.leadership.isLeading() && b.leadership.isLeading()) both = true;
      return b.leadership.role === 'leader';
    }, 'b leads', 3_000);
    expect(both).toBe(false);
    // Not a check period later, and nowhere near a request timeout: at the reconnect.
    expect(Date.now() - back).toBeLessThan(TIMING.checkMs);
    expect(a.leadership.role).toBe('standby');
    expect(leaderEntries(log)).toEqual([{ writer: 'a', term: 1 }, { writer: 'b', term: 2 }]);
  });

  it('a leader renews at a reconnect, and a renewal whose answer was lost does not depose it', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    await until(() => a.leadership.role === 'leader', 'a leads');
    // A short blip: a renewal lands but its answer is lost.
    const inner = lease.write.bind(lease);
    let lose = true;
    lease.write = async (v, r) => {
      const rev = await inner(v, r);
      if (lose) { lose = false; return new Promise<number>(() => undefined); }
      return rev;
    };
    await vi.advanceTimersByTimeAsync(TIMING.renewMs + 10);
    expect(lose).toBe(false);
    const rev = lease.revision;
    a.leadership.reconnected();
    await vi.advanceTimersByTimeAsync(10);
    // Renewed at once from the landed revision, and still leading well beyond the lease.
    expect(lease.revision).toBeGreaterThan(rev);
    await vi.advanceTimersByTimeAsync(3 * TIMING.leaseMs);
    expect(a.leadership.role).toBe('leader');
    expect(a.leadership.isLeading()).toBe(true);
    expect(lease.value).toMatchObject({ holder: 'a', term: 1 });
  });

  it('steps down when its renewal finds the lease taken', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    await until(() => a.leadership.role === 'leader', 'a leads');
    await lease.write({ holder: 'z', term: 9, expiresAt: Date.now() + 60_000, leaseMs: 60_000 }, lease.revision);
    await until(() => a.leadership.role === 'standby', 'a steps down');
    expect(a.serving.active).toBe(false);
    expect(a.leadership.isLeading()).toBe(false);
    // z keeps its lease (not released by a).
    expect(lease.value).toMatchObject({ holder: 'z' });
  });

  it('on shutdown a leader drains, runs its last step (snapshot) and hands the lease over', async () => {
    const lease = new MemLease();
    const log = new MemLog();
    const a = cellState('a', lease, log);
    a.leadership.start();
    await until(() => a.leadership.role === 'leader', 'a leads');
    const b = cellState('b', lease, log);
    b.leadership.start();
    await vi.advanceTimersByTimeAsync(1_000);
    await run(a.leadership.shutdown());
    expect(a.leadership.role).toBe('stopped');
    expect(a.released).toBe(1);
    expect(lease.deleted).toBe(true);
    // The hand-over is immediate: no lease to wait out.
    const took = await until(() => b.leadership.role === 'leader', 'b leads');
    expect(took).toBeLessThanOrEqual(2 * TIMING.checkMs + 50);
    await run(b.leadership.shutdown());
  });
});
