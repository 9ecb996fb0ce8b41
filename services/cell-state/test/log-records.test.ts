import { describe, expect, it } from 'vitest';
import { encode } from '@tessera/protocol';
import { ClaimColumns, decodeEntry, demandsOf, encodeEntry, type LogEntry } from '../src/core/log-records.ts';

describe('log entries', () => {
  it('round-trip every record type', () => {
    const cols = new ClaimColumns(3, 1);
    cols.push('j/a/0', 'j', 'n1', Float64Array.of(1.5, 2, 0));
    cols.push('j/a/1', 'j', 'n2', Float64Array.of(0.1, 0, 3));
    cols.push('j/a/2', 'j', 'n2', Float64Array.of(1e-300, 1e300, 0));
    const entry: LogEntry = {
      v: 1, at: 123, writer: 'w',
      records: [
        { t: 'commit', txns: [{ id: 't1', n: 2 }, { id: 't2', n: 1, rej: [['j/a/3', 'n9', 'node_gone']] }], task: cols.task, job: cols.job, node: cols.node, demand: cols.demandBytes() },
        { t: 'cell', resources: ['cpu_millis', 'mem_mib', 'gpu'] },
        { t: 'register', agent: 'a', nodes: [{ id: 'n1', labels: { zone: 'z' }, capacity: [1, 2, 3] }] },
        { t: 'lost', nodes: ['n1'] },
        { t: 'ended', agent: 'a', tasks: [{ taskId: 'j/a/0', nodeId: 'n1', outcome: 'failed', reason: 'oom' }] },
        { t: 'running', agent: 'a', tasks: [{ taskId: 'j/a/1', nodeId: 'n2' }] },
        { t: 'job', id: 'j', tenant: 't', submittedAt: 1, spec: { id: 'j', tasks: [] } },
        { t: 'job', id: 'k', tenant: 't', submittedAt: 1, error: 'tasks: bad' },
        { t: 'outcome', jobId: 'j', scheduler: 's', state: 'unschedulable', reason: 'r' },
        { t: 'leader', id: 'cs-a.1234', term: 3 },
      ],
    };
    const d = decodeEntry(encodeEntry(entry));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.problems).toEqual([]);
    expect(d.entry.records.map((r) => r.t)).toEqual(entry.records.map((r) => r.t));
    const c = d.entry.records[0];
    if (c.t !== 'commit') throw new Error('commit first');
    expect(demandsOf(c.demand, 3, 3)!.map((v) => Array.from(v))).toEqual([[1.5, 2, 0], [0.1, 0, 3], [1e-300, 1e300, 0]]);
    expect(d.entry.records.slice(1)).toEqual(entry.records.slice(1));
  });

  it.each([
    ['not msgpack', new Uint8Array([0xc1])],
    ['not an object', encode([1, 2])],
    ['another version', encode({ v: 2, at: 1, writer: 'w', records: [] })],
    ['no records', encode({ v: 1, at: 1, writer: 'w' })],
  ])('refuses a whole entry that is %s, without throwing', (_, bytes) => {
    const d = decodeEntry(bytes);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.problem.record).toBe(-1);
  });

  it('drops bad records and keeps the good ones', () => {
    const d = decodeEntry(encode({
      v: 1, at: 1, writer: 'w',
      records: [
        { t: 'lost', nodes: ['n1'] },
        { t: 'teleport', nodes: ['n1'] },
        null,
        { t: 'commit', txns: [{ id: 'x', n: 2 }], task: ['a'], job: ['j'], node: ['n'], demand: new Uint8Array(24) },
        { t: 'commit', txns: [{ id: 'x', n: 1, rej: [['a', 'n', 'because']] }], task: ['a'], job: ['j'], node: ['n'], demand: new Uint8Array(24) },
        { t: 'register', agent: 'a', nodes: [{ id: 'n', labels: {}, capacity: [-1] }] },
        { t: 'outcome', jobId: 'j', scheduler: 's', state: 'unschedulable', reason: 'ok' },
      ],
    }));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.entry.records.map((r) => r.t)).toEqual(['lost', 'outcome']);
    expect(d.problems.map((p) => p.record)).toEqual([1, 2, 3, 4, 5]);
    expect(d.problems[2].message).toMatch(/txns commit 2 claims, the columns hold 1/);
  });

  it('demandsOf refuses a byte string of the wrong size', () => {
    expect(demandsOf(new Uint8Array(23), 1, 3)).toBeUndefined();
    expect(demandsOf(new Uint8Array(0), 0, 3)).toEqual([]);
  });

  it('ClaimColumns grows without losing what it held', () => {
    const cols = new ClaimColumns(2, 1);
    for (let i = 0; i < 100; i++) cols.push(`t${i}`, 'j', 'n', Float64Array.of(i, -i));
    const d = demandsOf(cols.demandBytes(), 100, 2)!;
    expect(d[0]).toEqual(Float64Array.of(0, -0));
    expect(d[99]).toEqual(Float64Array.of(99, -99));
    expect(cols.length).toBe(100);
  });
});
