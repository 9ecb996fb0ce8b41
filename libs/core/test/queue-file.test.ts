import { describe, expect, it } from 'vitest';
import { parseQueueFile } from '../src/index.ts';
import { space, vec } from './builders.ts';

const cellCap = vec(10_000, 10_000, 8);

describe('queue file: every refusal names the bad field', () => {
  const rows: [string, unknown, string, RegExp][] = [
    ['not an object', [], '(root)', /object/],
    ['queues missing', {}, 'queues', /Required/],
    ['unknown top-level key', { queues: [], extra: 1 }, '(root)', /extra/],
    ['bad name', { queues: [{ name: 'a.b' }] }, 'queues[0].name', /A-Z a-z 0-9 _ -/],
    ['name too long', { queues: [{ name: 'x'.repeat(65) }] }, 'queues[0].name', /1-64/],
    ['negative weight', { queues: [{ name: 'a', weight: -1 }] }, 'queues[0].weight', /0/],
    ['unknown resource', { queues: [{ name: 'a', max: { cpus: 1 } }] }, 'queues[0].max.cpus', /unknown resource/],
    ['negative guaranteed', { queues: [{ name: 'a', guaranteed: { cpu_millis: -5 } }] }, 'queues[0].guaranteed.cpu_millis', /≥ 0/],
    ['duplicate sibling', { queues: [{ name: 'a' }, { name: 'a' }] }, 'queues[1].name', /duplicate/],
    ['guaranteed above own max', { queues: [{ name: 'a', guaranteed: { cpu_millis: 5 }, max: { cpu_millis: 4 } }] }, 'queues[0].guaranteed.cpu_millis', /exceeds the queue's max/],
    ['children exceed the parent', { queues: [{ name: 'p', guaranteed: { cpu_millis: 10 }, queues: [{ name: 'a', guaranteed: { cpu_millis: 6 } }, { name: 'b', guaranteed: { cpu_millis: 6 } }] }] }, 'queues[0].queues[1].guaranteed.cpu_millis', /exceeds the guaranteed of "p"/],
    ['child guaranteed where the parent has none', { queues: [{ name: 'p', queues: [{ name: 'a', guaranteed: { gpu: 1 } }] }] }, 'queues[0].queues[0].guaranteed.gpu', /exceeds/],
    ['top level exceeds the cell', { queues: [{ name: 'a', guaranteed: { cpu_millis: 6000 } }, { name: 'b', guaranteed: { cpu_millis: 6000 } }] }, 'queues[1].guaranteed.cpu_millis', /cell's capacity/],
    ['default with children', { queues: [{ name: 'default', queues: [{ name: 'x' }] }] }, 'queues[0].queues', /leaf/],
  ];
  it.each(rows)('%s', (_name, input, path, message) => {
    const r = parseQueueFile(input, space, cellCap);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.path).toBe(path);
    expect(r.error.message).toMatch(message);
  });

  it('builds the tree: dotted leaf paths, defaults, default always present', () => {
    const r = parseQueueFile({ queues: [{ name: 'prod', weight: 2, guaranteed: { cpu_millis: 4000 }, max: { cpu_millis: 8000 }, queues: [{ name: 'web', guaranteed: { cpu_millis: 1000 } }] }, { name: 'batch' }] }, space, cellCap);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const t = r.tree;
    expect(t.all().map((n) => n.path)).toEqual(['prod', 'prod.web', 'batch', 'default']);
    expect(t.isLeaf('prod.web')).toBe(true);
    expect(t.isLeaf('prod')).toBe(false);
    expect(t.get('prod')!.weight).toBe(2);
    expect([...t.get('prod')!.max]).toEqual([8000, Infinity, Infinity]);
    expect(t.pathTo('prod.web').map((n) => n.path)).toEqual(['prod.web', 'prod']);
  });
});
