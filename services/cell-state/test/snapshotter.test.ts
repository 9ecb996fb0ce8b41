/**
 * The snapshot schedule: a standby writes at the configured pace, the leader only when no standby
 * kept the stored snapshot fresh (1.5 × the pace); nobody overwrites a newer snapshot; a copy
 * under way is abandoned when the role changes (a promotion must not wait for it).
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '@tessera/runtime';
import { applyEntry, type CellModel } from '../src/core/model.ts';
import { Snapshotter, type SnapshotRole, type SnapshotStorePort, type StoredSnapshotInfo } from '../src/shell/snapshots.ts';
import { model } from './builders.ts';

const silent = createLogger('test', 'silent');

class MemStore implements SnapshotStorePort {
  stored: { bytes: Uint8Array; info: StoredSnapshotInfo } | undefined;
  saves: StoredSnapshotInfo[] = [];
  async load() { return this.stored?.bytes ?? null; }
  async info() { return this.stored?.info ?? null; }
  async save(bytes: Uint8Array, info: StoredSnapshotInfo) {
    this.stored = { bytes, info };
    this.saves.push(info);
  }
}

function grow(m: CellModel, n: number): void {
  for (let i = 0; i < n; i++) applyEntry(m, { v: 1, at: 1, writer: 'w', records: [{ t: 'register', agent: 'a', nodes: [{ id: `n${m.lastSeq}`, labels: {}, capacity: [1, 1, 0] }] }] }, m.lastSeq + 1);
}

const free: <T>(fn: () => Promise<T>) => Promise<T> = (fn) => fn();
const leader: SnapshotRole = { kind: 'leader', hold: free };
const standby: SnapshotRole = { kind: 'standby', hold: free };

function snapshotter(m: CellModel, store: MemStore, writerId: string) {
  return new Snapshotter(m, store, { everyEntries: 20, intervalMs: 0, writerId, now: () => Date.now(), log: silent }, 0);
}

/** Lets the triggered snapshots (if any) finish: the store's info read comes first, then the copy. */
async function settle(...ss: Snapshotter[]): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    for (const s of ss) await s.idle();
  }
}

describe('Snapshotter', () => {
  it('a standby writes every N entries; a leader waits 1.5 × N and defers to a standby that keeps up', async () => {
    const store = new MemStore();
    const lm = model(), sm = model();
    const l = snapshotter(lm, store, 'L'), s = snapshotter(sm, store, 'S');
    l.setRole(leader);
    s.setRole(standby);
    for (let k = 0; k < 8; k++) {
      grow(lm, 5);
      grow(sm, 5); // the standby follows closely
      l.noteAppended();
      s.noteAppended();
      await settle(l, s);
    }
    expect(store.saves.map((x) => x.writer)).toEqual(['S', 'S']);
    expect(store.saves.map((x) => x.seq)).toEqual([20, 40]);
    // Without a standby the leader writes on its own, at 1.5 × N.
    for (let k = 0; k < 6; k++) {
      grow(lm, 5);
      l.noteAppended();
      await settle(l);
    }
    expect(store.saves.at(-1)).toEqual({ seq: 70, writer: 'L' });
  });

  it('never writes a snapshot older than the stored one', async () => {
    const store = new MemStore();
    await store.save(new Uint8Array([1]), { seq: 100, writer: 'other' });
    const m = model();
    grow(m, 30);
    const s = snapshotter(m, store, 'S');
    s.setRole(standby);
    expect(await s.snapshot('entries')).toBeUndefined();
    expect(store.saves).toHaveLength(1);
  });

  it('abandons a copy under way when the role changes, releasing what it held', async () => {
    const store = new MemStore();
    const m = model();
    grow(m, 3);
    for (let i = 0; i < 60_000; i++) m.assignedAt.set(`j/t/${i}`, i); // enough for several steps
    const s = snapshotter(m, store, 'S');
    let held = false;
    s.setRole({ kind: 'standby', hold: async (fn) => { held = true; try { return await fn(); } finally { held = false; } } });
    const p = s.snapshot('entries', true);
    await new Promise((r) => setImmediate(r));
    s.setRole({ kind: 'off' });
    expect(await p).toBeUndefined();
    expect(held).toBe(false);
    expect(store.saves).toHaveLength(0);
  });
});
