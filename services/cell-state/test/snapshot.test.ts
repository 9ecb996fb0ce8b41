/**
 * Snapshots: a model restored from a snapshot, plus the log tail after it, is the model a full
 * replay builds — every field, versions and change logs included — and a snapshot that is
 * corrupt or taken for another configuration is refused as a value, never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResourceSpace, type Transaction } from '@tessera/core';
import { createLogger } from '@tessera/runtime';
import { decodeEntry, encodeEntry, type LogRecord } from '../src/core/log-records.ts';
import { applyEntry, createModel, type CellModel } from '../src/core/model.ts';
import { decodeSnapshot, encodeSnapshot, restoreModel, takeSnapshot } from '../src/core/snapshot.ts';
import type { CellMetrics } from '../src/shell/metrics.ts';
import { LogWriter } from '../src/shell/writer.ts';
import { claimTxn, model, space, spec } from './builders.ts';
import { MemLog } from './mem-log.ts';

const OPTS = { partitions: 2, granularity: 'fine' as const };
const quietMetrics: CellMetrics = { countResults() {}, observeBatch() {}, refused() {}, refusedIdentity() {}, appendFailed() {} };
const silent = createLogger('test', 'silent');

/** Everything observable in a model, as plain data (typed arrays as arrays). */
export function fullState(m: CellModel): unknown {
  const cell = m.cell;
  const syncs = [];
  for (let p = 0; p < cell.partitionCount; p++) {
    for (let since = -1; since <= cell.partitionVersion(p); since++) syncs.push(cell.sync(p, since));
  }
  const jobs = [...m.jobs.entries()].map((j) => ({ ...j, groups: [...j.groups.entries()] }));
  const plain = {
    nodes: cell.nodes.map((n) => ({ ...n, allocations: [...n.allocations.values()] })),
    partitions: Array.from({ length: cell.partitionCount }, (_, p) => [cell.partitionVersion(p), cell.partitionNodes(p).map((n) => n.id)]),
    placed: [...cell.placedTasks()],
    syncs,
    outcomes: [...m.committer.rememberedOutcomes()],
    jobs,
    early: m.jobs.earlyOutcomeList(),
    earlyPlacedAt: m.jobs.earlyPlacedAtList(),
    owners: [...m.owners],
    assignedAt: [...m.assignedAt],
    orphans: [...m.orphanReturns],
    lastSeq: m.lastSeq,
    logResources: m.logResources,
  };
  return JSON.parse(JSON.stringify(plain, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v)));
}

/**
 * The live committer lists a transaction's touched nodes in claim order, replay committed nodes
 * first: the same snapshots, in another order. Compare live-derived models with that normalised.
 */
function byNodeId(x: unknown): unknown {
  const st = x as { outcomes: { nodes: { id: string }[] }[] };
  for (const o of st.outcomes) o.nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return st;
}

function replayRange(m: CellModel, log: MemLog, from: number, to: number): CellModel {
  for (let seq = from; seq <= to; seq++) {
    const d = decodeEntry(log.entries[seq - 1]);
    if (!d.ok) throw new Error(d.problem.message);
    applyEntry(m, d.entry, seq);
  }
  return m;
}

function roundTrip(m: CellModel): CellModel {
  const d = decodeSnapshot(encodeSnapshot(takeSnapshot(m, { at: 1, writer: 'w' })));
  if (!d.ok) throw new Error(d.problem);
  const r = restoreModel(d.value, space, OPTS);
  if (!r.ok) throw new Error(r.problem);
  return r.value;
}

const nodeIds = ['n0', 'n1', 'n2', 'n3'];
const jobIds = ['j0', 'j1', 'j2'];
const op = fc.oneof(
  fc.record({ k: fc.constant('register' as const), agent: fc.constantFrom('a', 'b'), nodes: fc.subarray(nodeIds, { minLength: 1 }), cpu: fc.integer({ min: 0, max: 3 }), zone: fc.constantFrom('x', 'y') }),
  fc.record({ k: fc.constant('job' as const), job: fc.constantFrom(...jobIds), count: fc.integer({ min: 1, max: 4 }), bad: fc.boolean() }),
  fc.record({
    k: fc.constant('commit' as const), id: fc.integer({ min: 0, max: 12 }), gang: fc.boolean(),
    claims: fc.array(fc.record({ job: fc.constantFrom(...jobIds), i: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...nodeIds, 'ghost'), cpu: fc.constantFrom(0.1, 0.2, 0.3, 50, 250, 500) }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ k: fc.constant('ended' as const), agent: fc.constantFrom('a', 'b'), job: fc.constantFrom(...jobIds), i: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...nodeIds), ok: fc.boolean() }),
  fc.record({ k: fc.constant('running' as const), agent: fc.constantFrom('a', 'b'), job: fc.constantFrom(...jobIds), i: fc.integer({ min: 0, max: 3 }), node: fc.constantFrom(...nodeIds) }),
  fc.record({ k: fc.constant('lost' as const), nodes: fc.subarray(nodeIds, { minLength: 1 }) }),
  fc.record({ k: fc.constant('outcome' as const), job: fc.constantFrom(...jobIds, 'j9') }),
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** Drives a live writer over an in-memory log; returns the live model and the log. */
async function runLive(ticks: Op[][], cutAfterTick: number): Promise<{ live: CellModel; log: MemLog; mid: CellModel }> {
  const live = model(OPTS);
  const log = new MemLog();
  let clock = 1_000;
  const w = new LogWriter(live, log, {
    writerId: 'w', batchMs: 0, batchMaxTxns: 64, appendTimeoutMs: 1_000, now: () => (clock += 7), log: silent, metrics: quietMetrics,
    onEffects: () => undefined,
  });
  await w.append({ t: 'cell', resources: [...space.names] });
  let mid: CellModel | undefined;
  for (const [ti, tick] of ticks.entries()) {
    const pending: Promise<unknown>[] = [];
    for (const o of tick) {
      let rec: LogRecord | undefined;
      let txn: Transaction | undefined;
      switch (o.k) {
        case 'register': rec = { t: 'register', agent: o.agent, nodes: o.nodes.map((id) => ({ id, labels: { zone: o.zone }, capacity: [500 + 250 * o.cpu, 100, 0] })) }; break;
        case 'job': rec = o.bad
          ? { t: 'job', id: o.job, tenant: 't', submittedAt: 1, error: 'bad spec' }
          : { t: 'job', id: o.job, tenant: 't', submittedAt: 1, spec: spec(o.job, [{ name: 't', count: o.count, duration_s: 3 }]) as unknown as Record<string, unknown> };
          break;
        case 'commit': txn = claimTxn(`x${o.id}`, o.claims.map((c) => ({ task: `${c.job}/t/${c.i}`, node: c.node, cpu: c.cpu })), o.gang ? 'all-or-nothing' : 'incremental'); break;
        case 'ended': rec = { t: 'ended', agent: o.agent, tasks: [{ taskId: `${o.job}/t/${o.i}`, nodeId: o.node, outcome: o.ok ? 'succeeded' : 'failed', reason: o.ok ? undefined : 'boom' }] }; break;
        case 'running': rec = { t: 'running', agent: o.agent, tasks: [{ taskId: `${o.job}/t/${o.i}`, nodeId: o.node }] }; break;
        case 'lost': rec = { t: 'lost', nodes: o.nodes }; break;
        case 'outcome': rec = { t: 'outcome', jobId: o.job, scheduler: 's', state: 'unschedulable', reason: 'r' }; break;
      }
      pending.push(txn !== undefined ? w.commit([txn]) : w.append(rec!));
    }
    await Promise.all(pending);
    // A snapshot of the live model between batches, as the service takes it.
    if (ti === cutAfterTick) mid = await w.exclusive(() => roundTrip(live));
  }
  await w.close();
  return { live, log, mid: mid ?? roundTrip(live) };
}

describe('snapshots', () => {
  it('snapshot + log tail = full replay = live state (property)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 10 }),
      fc.nat(12),
      async (ticks, cut) => {
        const { live, log, mid } = await runLive(ticks, Math.min(cut, ticks.length - 1));
        const full = replayRange(model(OPTS), log, 1, log.entries.length);
        // From a snapshot of the live model, taken between batches.
        const fromLive = replayRange(mid, log, mid.lastSeq + 1, log.entries.length);
        expect(byNodeId(fullState(fromLive))).toEqual(byNodeId(fullState(full)));
        // From a snapshot of a replayed model at an arbitrary sequence.
        const k = Math.min(log.entries.length, cut + 1);
        const partial = roundTrip(replayRange(model(OPTS), log, 1, k));
        expect(fullState(partial)).toEqual(fullState(replayRange(model(OPTS), log, 1, k)));
        expect(fullState(replayRange(partial, log, k + 1, log.entries.length))).toEqual(fullState(full));
        // And the live model itself (no append failed, so versions agree too).
        expect(byNodeId(fullState(live))).toEqual(byNodeId(fullState(full)));
      },
    ), { numRuns: 120 });
  });

  it('keeps the header: sequence, origin, counts, log identity', () => {
    const m = model(OPTS);
    const log = new MemLog();
    void log;
    applyEntry(m, { v: 1, at: 5, writer: 'w', records: [{ t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: {}, capacity: [1, 1, 0] }] }] }, 7);
    const s = takeSnapshot(m, { at: 42, writer: 'cs-1', logCreated: '2024-01-01T00:00:00Z' });
    expect(s.meta).toEqual({ seq: 7, at: 42, writer: 'cs-1', resources: [...space.names], partitions: 2, logCreated: '2024-01-01T00:00:00Z', lastHash: m.lastHash, chained: false, nodes: 1, allocations: 0, jobs: 0, outcomes: 0 });
  });

  it('refuses a snapshot taken with other resources or partitions', () => {
    const m = model(OPTS);
    applyEntry(m, { v: 1, at: 5, writer: 'w', records: [{ t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: {}, capacity: [1, 1, 0] }] }] }, 1);
    const d = decodeSnapshot(encodeSnapshot(takeSnapshot(m, { at: 1, writer: 'w' })));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(restoreModel(d.value, ResourceSpace.of(['cpu_millis', 'mem_mib']), OPTS)).toMatchObject({ ok: false, problem: expect.stringMatching(/resources/) });
    expect(restoreModel(d.value, space, { ...OPTS, partitions: 3 })).toMatchObject({ ok: false, problem: expect.stringMatching(/partitions/) });
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['not msgpack', new Uint8Array([0xc1, 0xc1, 0xc1])],
    ['another msgpack value', encodeEntry({ v: 1, at: 1, writer: 'w', records: [] })],
  ])('refuses %s bytes as a value', (_name, bytes) => {
    expect(decodeSnapshot(bytes)).toMatchObject({ ok: false });
  });

  it('never throws on a damaged snapshot: truncated or with bytes changed (property)', () => {
    const m = model(OPTS);
    const recs: LogRecord[] = [
      { t: 'cell', resources: [...space.names] },
      { t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: { z: 'a' }, capacity: [1000, 100, 0] }, { id: 'n2', labels: {}, capacity: [1000, 100, 0] }] },
      { t: 'job', id: 'j', tenant: 't', submittedAt: 1, spec: spec('j', [{ name: 't', count: 3 }]) as unknown as Record<string, unknown> },
    ];
    applyEntry(m, { v: 1, at: 1, writer: 'w', records: recs }, 1);
    const good = encodeSnapshot(takeSnapshot(m, { at: 1, writer: 'w' }));
    fc.assert(fc.property(fc.nat(good.length - 1), fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (cut, flips) => {
      const bad = good.slice(0, Math.max(1, cut));
      for (const [i, b] of flips) if (i < bad.length) bad[i] = b;
      const d = decodeSnapshot(bad);
      if (d.ok) restoreModel(d.value, space, OPTS);
      const f = good.slice();
      for (const [i, b] of flips) f[i] = b;
      const d2 = decodeSnapshot(f);
      if (d2.ok) restoreModel(d2.value, space, OPTS);
    }), { numRuns: 300 });
  });

  it('reads byte columns that are views into a larger (pooled, unaligned) Buffer', () => {
    const m = model(OPTS);
    applyEntry(m, { v: 1, at: 5, writer: 'w', records: [{ t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: {}, capacity: [1000.5, 1, 0] }] }] }, 3);
    const bytes = encodeSnapshot(takeSnapshot(m, { at: 1, writer: 'w' }));
    const pooled = Buffer.concat([Buffer.alloc(3), Buffer.from(bytes)]).subarray(3);
    const d = decodeSnapshot(pooled);
    expect(d.ok).toBe(true);
    const r = d.ok ? restoreModel(d.value, space, OPTS) : undefined;
    expect(r?.ok && fullState(r.value)).toEqual(fullState(m));
  });

  it('keeps the commit time of tasks committed before their job was read (optional field, older snapshots load)', async () => {
    const live = model(OPTS);
    const log = new MemLog();
    let clock = 1_000;
    const w = new LogWriter(live, log, {
      writerId: 'w', batchMs: 0, batchMaxTxns: 64, appendTimeoutMs: 1_000, now: () => (clock += 7), log: silent, metrics: quietMetrics,
      onEffects: () => undefined,
    });
    await w.append({ t: 'cell', resources: [...space.names] });
    await w.append({ t: 'register', agent: 'a', nodes: [{ id: 'n0', labels: {}, capacity: [1000, 100, 0] }] });
    await w.commit([claimTxn('x1', [{ task: 'j0/t/0', node: 'n0', cpu: 50 }])]);
    await w.commit([claimTxn('x2', [{ task: 'j0/t/1', node: 'n0', cpu: 50 }])]);
    const committedAt = clock;
    const taken = takeSnapshot(live, { at: 1, writer: 'w' });
    expect(taken.earlyPlacedAt).toEqual([['j0', committedAt]]);
    const fromSnapshot = roundTrip(live);
    const { earlyPlacedAt: _dropped, ...older } = taken;
    const d = decodeSnapshot(encodeSnapshot(older));
    const r = d.ok ? restoreModel(d.value, space, OPTS) : undefined;
    if (r === undefined || !r.ok) throw new Error('an older snapshot (no earlyPlacedAt) must load');
    await w.append({ t: 'job', id: 'j0', tenant: 't', submittedAt: 1, spec: spec('j0', [{ name: 't', count: 2, duration_s: 3 }]) as unknown as Record<string, unknown> });
    await w.close();
    expect(live.jobs.get('j0')?.placedAt).toBe(committedAt);
    const full = replayRange(model(OPTS), log, 1, log.entries.length);
    expect(full.jobs.get('j0')?.placedAt).toBe(committedAt);
    expect(replayRange(fromSnapshot, log, fromSnapshot.lastSeq + 1, log.entries.length).jobs.get('j0')?.placedAt).toBe(committedAt);
    // An older snapshot lacks the time: the job counts as placed when submitted, as before.
    expect(replayRange(r.value, log, r.value.lastSeq + 1, log.entries.length).jobs.get('j0')?.placedAt).toBe(1);
  });

  it('an empty model round-trips', () => {
    const m = createModel(space, OPTS);
    expect(fullState(roundTrip(m))).toEqual(fullState(m));
  });
});
