/**
 * `tessera cordon | drain | uncordon` against a real cell: a drained node's tasks are re-placed on
 * other nodes and it ends `drained`; the state is in the commit log, so it survives a restart of
 * cell-state; uncordon brings it back to ready.
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
});
