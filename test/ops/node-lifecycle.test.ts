/**
 * Operator commands against a real cell: `tessera cordon | drain | uncordon` (a drained node's
 * tasks are re-placed on other nodes and it ends `drained`; the state is in the commit log, so it
 * survives a restart of cell-state; uncordon brings it back to ready), `tessera explain` on a job
 * no node can take, and `tessera jobs --json` with a job of 200,000 tasks (the spec's maximum).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@tessera/launcher';
import { startOpsCell, type OpsCell } from './helpers.ts';

const CELL = 'lifecycle';
let ops: OpsCell;

function tessera(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO_ROOT, 'cli/bin/tessera.mjs'), '--data-dir', join(ops.dir, 'cells'), '--cell', CELL, ...args], { timeout: 90_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}
async function json<T>(...args: string[]): Promise<T> {
  const r = await tessera(...args, '--json');
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
type Jobs = { id: string; state: string; tasks: { id: string; state: string; node?: string }[] }[];
type Nodes = { id: string; state: string }[];
const nodeState = async (id: string) => (await json<Nodes>('nodes')).find((n) => n.id === id)?.state;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out: ${what}`);
}

beforeAll(async () => {
  ops = await startOpsCell(CELL, { nodes: 12, partitions: 3, schedulers: 1, dataDirIn: 'cells' });
}, 120_000);
afterAll(async () => { await ops?.close(); });

describe('node lifecycle through the commit log', () => {
  it('drain re-places the node\'s tasks elsewhere and ends drained; a restart keeps it; uncordon brings it back', async () => {
    const file = join(ops.dir, 'long.json');
    writeFileSync(file, JSON.stringify({ id: 'long', tenant: 't', tasks: [{ name: 'w', count: 6, resources: { cpu_millis: 100, mem_mib: 64 }, duration_s: 600 }] }));
    expect((await tessera('submit', file)).code).toBe(0);
    const placed = await until('placed', async () => { const j = (await json<Jobs>('jobs')).find((x) => x.id === 'long'); return j?.tasks.every((t) => t.node !== undefined) ? j : undefined; });
    const victim = placed.tasks[0].node!;
    const onVictim = placed.tasks.filter((t) => t.node === victim).map((t) => t.id);

    expect((await json<{ nodes: Nodes }>('cordon', victim)).nodes).toEqual([{ id: victim, state: 'cordoned', tasks: onVictim.length }]);
    const drain = await tessera('drain', victim, '--deadline', '0');
    expect(drain.code).toBe(0);
    expect(drain.stdout).toContain(`${victim}: drained`);
    const moved = await until('re-placed', async () => {
      const j = (await json<Jobs>('jobs')).find((x) => x.id === 'long')!;
      const ts = j.tasks.filter((t) => onVictim.includes(t.id));
      return ts.every((t) => t.node !== undefined && t.node !== victim) ? ts : undefined;
    });
    expect(moved).toHaveLength(onVictim.length);

    await ops.cell.restart('cell-state');
    expect(await until('listing after restart', () => nodeState(victim).catch(() => undefined))).toBe('drained');
    expect((await json<{ nodes: Nodes }>('uncordon', victim)).nodes[0].state).toBe('ready');
    const unknown = await tessera('cordon', 'no-such-node');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no such node: no-such-node/);
  }, 90_000);

  it('explain says why a job waits, per filter reason', async () => {
    const file = join(ops.dir, 'huge.json');
    writeFileSync(file, JSON.stringify({ id: 'too-big', tenant: 't', tasks: [{ name: 'w', count: 2, resources: { cpu_millis: 10_000_000, mem_mib: 64 }, duration_s: 1 }] }));
    expect((await tessera('submit', file)).code).toBe(0);
    const r = await until('explained', async () => { const x = await tessera('explain', 'too-big', '--json'); return x.code === 0 ? JSON.parse(x.stdout) as { job: { state: string }; groups: { summary: string; feasible: number }[]; queue: { name: string } } : undefined; });
    expect(r.groups[0]).toMatchObject({ feasible: 0, summary: expect.stringMatching(/^0\/12 nodes are available: \d+ larger than any node/) });
    expect(r.queue.name).toBe('default');
    const text = await tessera('explain', 'too-big');
    expect(text.stdout).toMatch(/group w: 2 of 2 pending/);
    expect(text.stdout).toMatch(/no node can ever take it/);
    const missing = await tessera('explain', 'no-such-job');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no job "no-such-job"/);
  }, 60_000);

  it('jobs --json lists a job of 200,000 tasks (its tasks come in windows, never one message)', async () => {
    const file = join(ops.dir, 'wide.json');
    writeFileSync(file, JSON.stringify({ id: 'wide', tenant: 't', tasks: [{ name: 'w', count: 200_000, resources: { cpu_millis: 10_000_000 }, duration_s: 1 }] }));
    expect((await tessera('submit', file)).code).toBe(0);
    const wide = await until('listed', async () => (await json<Jobs>('jobs')).find((j) => j.id === 'wide'), 60_000);
    expect(wide.tasks).toHaveLength(200_000);
    expect(wide.tasks[199_999].id).toBe('wide/w/199999');
    expect(new Set(wide.tasks.map((t) => t.id)).size).toBe(200_000);
  }, 90_000);
});
