/**
 * The tamper-evident commit log: entries written by the writer chain by hash; replay verifies
 * each and stops with LogIntegrityError naming the sequence at a flipped byte (anywhere in any
 * entry), a removed, reordered or foreign entry, or an unchained entry after chained ones —
 * never applying it. A log of version 1 entries (no hashes) still replays, and a writer
 * continues it chained.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode } from '@tessera/protocol';
import { createLogger } from '@tessera/runtime';
import { decodeEntry, GENESIS_HASH, sealEntry, type LogRecord } from '../src/core/log-records.ts';
import type { CellModel } from '../src/core/model.ts';
import type { CellMetrics } from '../src/shell/metrics.ts';
import { LogIntegrityError, replayInto } from '../src/shell/replay.ts';
import { LogWriter } from '../src/shell/writer.ts';
import { model } from './builders.ts';
import { MemLog } from './mem-log.ts';

const silent = createLogger('test', 'silent');
const quietMetrics: CellMetrics = { countResults() {}, observeBatch() {}, refused() {}, refusedIdentity() {}, appendFailed() {} };

const reg = (i: number): LogRecord => ({ t: 'register', agent: 'a', nodes: [{ id: `n${i}`, labels: {}, capacity: [1000 + i, 0, 0] }] });

/** A log of `n` entries written by the real writer. */
async function writtenLog(n: number): Promise<MemLog> {
  const log = new MemLog();
  const w = new LogWriter(model(), log, {
    writerId: 'w', batchMs: 0, batchMaxTxns: 64, appendTimeoutMs: 1_000, now: () => 1, log: silent, metrics: quietMetrics, onEffects: () => undefined,
  });
  for (let i = 0; i < n; i++) expect((await w.append(reg(i))).ok).toBe(true);
  return log;
}

async function replay(log: MemLog, m: CellModel = model()): Promise<CellModel> {
  await replayInto(m, log, log.entries.length, silent);
  return m;
}

function integrityError(e: unknown): LogIntegrityError {
  expect(e).toBeInstanceOf(LogIntegrityError);
  return e as LogIntegrityError;
}

describe('the hash-chained commit log', () => {
  it('replays a log the writer wrote, and every entry links to the previous one', async () => {
    const log = await writtenLog(5);
    const m = await replay(log);
    expect(m.cell.nodeCount).toBe(5);
    expect(m.chained).toBe(true);
    let prev = GENESIS_HASH;
    for (const bytes of log.entries) {
      const d = decodeEntry(bytes);
      if (!d.ok) throw new Error('undecodable');
      expect(d.prev).toEqual(prev);
      prev = d.hash;
    }
  });

  it('detects a flipped byte anywhere in any entry on replay, names its sequence, and applies nothing from there on (property)', async () => {
    const clean = await writtenLog(4);
    await fc.assert(fc.asyncProperty(fc.nat(3), fc.nat(), fc.integer({ min: 1, max: 255 }), async (k, pos, mask) => {
      const log = new MemLog();
      log.entries.push(...clean.entries.map((e) => e.slice()));
      const target = log.entries[k];
      target[pos % target.length] ^= mask;
      const m = model();
      const e = integrityError(await replay(log, m).then(() => undefined, (x: unknown) => x));
      // Detected at the entry itself (its own hash), or at the next one when the flip hit its chain hash.
      expect([k + 1, k + 2]).toContain(e.seq);
      expect(e.message).toMatch(new RegExp(`entry ${e.seq} fails verification`));
      expect(m.lastSeq).toBe(e.seq - 1);
      expect(m.cell.nodeCount).toBe(e.seq - 1);
    }), { numRuns: 300 });
  });

  it('detects a removed, a reordered, an inserted unchained and a foreign-chain entry', async () => {
    const clean = await writtenLog(4);
    const cases: [string, Uint8Array[], number][] = [
      ['entry 2 removed', [clean.entries[0], ...clean.entries.slice(2)], 2],
      ['entries 2 and 3 swapped', [clean.entries[0], clean.entries[2], clean.entries[1], clean.entries[3]], 2],
      ['an unchained entry inserted', [clean.entries[0], encode({ v: 1, at: 1, writer: 'forger', records: [reg(99)] }), ...clean.entries.slice(1)], 2],
      ['an entry sealed on another chain', [clean.entries[0], sealEntry({ at: 1, writer: 'forger', records: [reg(99)] }, GENESIS_HASH).bytes, ...clean.entries.slice(1)], 2],
      ['garbage', [clean.entries[0], new Uint8Array([0xc1, 0xc1])], 2],
    ];
    for (const [what, entries, seq] of cases) {
      const log = new MemLog();
      log.entries.push(...entries);
      const m = model();
      const e = integrityError(await replay(log, m).then(() => undefined, (x: unknown) => x));
      expect(e.seq, what).toBe(seq);
      expect(m.cell.nodeCount, what).toBe(1);
    }
  });

  it('still replays a log of version 1 entries (no hashes), and a writer continues it chained', async () => {
    const log = new MemLog();
    for (let i = 0; i < 3; i++) log.entries.push(encode({ v: 1, at: 1, writer: 'old', records: [reg(i)] }));
    const m = await replay(log);
    expect(m.cell.nodeCount).toBe(3);
    expect(m.chained).toBe(false);
    const w = new LogWriter(m, log, {
      writerId: 'new', batchMs: 0, batchMaxTxns: 64, appendTimeoutMs: 1_000, now: () => 1, log: silent, metrics: quietMetrics, onEffects: () => undefined,
    });
    expect((await w.append(reg(3))).ok).toBe(true);
    const again = await replay(log);
    expect(again.cell.nodeCount).toBe(4);
    expect(again.chained).toBe(true);
    // An unchained entry after the chained one is refused.
    log.entries.push(encode({ v: 1, at: 1, writer: 'old', records: [reg(4)] }));
    const e = integrityError(await replay(log).then(() => undefined, (x: unknown) => x));
    expect(e.seq).toBe(5);
  });
});
