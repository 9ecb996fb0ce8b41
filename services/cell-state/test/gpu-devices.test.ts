/**
 * GPU devices through cell-state (DESIGN §12): the commit log and snapshots carry each claim's
 * devices, so replay and restore rebuild the same per-device state; logs written before devices
 * (no `dev` column) and older snapshots load with best-fit devices; listings show them.
 */
import { ResourceSpace, type Transaction } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, type LogEntry } from '../src/core/log-records.ts';
import { listNodes } from '../src/core/listings.ts';
import { applyEntry, createModel, decideCommitBatch, type CellModel } from '../src/core/model.ts';
import { decodeSnapshot, encodeSnapshot, restoreModel, takeSnapshot } from '../src/core/snapshot.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);
const OPTS = { partitions: 1, granularity: 'fine' as const };

function entry(records: LogEntry['records']): Uint8Array {
  return encodeEntry({ v: 1, at: 1, writer: 'w', records });
}

function replay(entries: Uint8Array[]): CellModel {
  const m = createModel(space, OPTS);
  entries.forEach((bytes, i) => {
    const d = decodeEntry(bytes);
    if (!d.ok) throw new Error(d.problem.message);
    applyEntry(m, d.entry, i + 1);
  });
  return m;
}

const txn = (id: string, task: string, demand: number[], devices?: number[]): Transaction => ({
  id, schedulerId: 's', kind: 'incremental', claims: [{ taskId: task, jobId: task.split('/')[0], nodeId: 'g0', demand: Float64Array.from(demand), seenVersion: 0, devices }],
});

describe('GPU devices in the commit log and snapshots', () => {
  const head = [entry([{ t: 'cell', resources: [...space.names] }]), entry([{ t: 'register', agent: 'a', nodes: [{ id: 'g0', labels: { gpu_model: 'G2' }, capacity: [96_000, 393_216, 4, 4000] }] }])];

  it('replays the devices the committer booked, not best-fit ones', () => {
    const live = replay(head);
    const entries = [...head];
    for (const [i, t] of [txn('x1', 'a/t/0', [1000, 0, 0, 300], [3]), txn('x2', 'b/t/0', [1000, 0, 2, 2000], [0, 2]), txn('x3', 'c/t/0', [1000, 0, 0, 800], [3])].entries()) {
      const d = decideCommitBatch(live, [t], head.length + i + 1);
      entries.push(entry([d.record!]));
    }
    expect(Array.from(live.cell.node('g0')!.gpus!)).toEqual([1000, 0, 1000, 300]); // x3 refused: device 3 would hold 1100
    const replayed = replay(entries);
    expect(Array.from(replayed.cell.node('g0')!.gpus!)).toEqual([1000, 0, 1000, 300]);
    expect(replayed.cell.allocationOf('a/t/0')!.devices).toEqual([3]);
    const listed = listNodes(replayed, { offset: 0, limit: 10 }).items[0];
    expect(listed.gpus).toEqual([{ index: 0, allocated_milli: 1000 }, { index: 1, allocated_milli: 0 }, { index: 2, allocated_milli: 1000 }, { index: 3, allocated_milli: 300 }]);
    expect(listed.gpu_model).toBe('G2');

    const snap = decodeSnapshot(encodeSnapshot(takeSnapshot(replayed, { at: 1, writer: 'w' })));
    const restored = snap.ok ? restoreModel(snap.value, space, OPTS) : undefined;
    if (restored === undefined || !restored.ok) throw new Error('the snapshot must restore');
    expect(Array.from(restored.value.cell.node('g0')!.gpus!)).toEqual([1000, 0, 1000, 300]);

    // A snapshot written before devices (no allocDevices) loads; its allocations get best-fit devices.
    const { allocDevices: _d, ...olderCell } = takeSnapshot(replayed, { at: 1, writer: 'w' }).cell;
    const older = decodeSnapshot(encodeSnapshot({ ...takeSnapshot(replayed, { at: 1, writer: 'w' }), cell: olderCell }));
    const r2 = older.ok ? restoreModel(older.value, space, OPTS) : undefined;
    if (r2 === undefined || !r2.ok) throw new Error('an older snapshot must restore');
    expect(Array.from(r2.value.cell.node('g0')!.gpus!)).toEqual([300, 1000, 1000, 0]); // a, then b, in booking order
  });

  it('a log written before devices (no dev column) replays with best-fit devices', () => {
    const live = replay(head);
    const d = decideCommitBatch(live, [txn('x1', 'a/t/0', [1000, 0, 0, 300], [3])], 3);
    const { dev: _dev, ...old } = d.record!;
    const replayed = replay([...head, entry([old])]);
    expect(replayed.cell.allocationOf('a/t/0')!.devices).toEqual([0]);
  });
});
