/**
 * The launcher's programmatic API as the benchmark and chaos commands use it: startCell, a
 * crashed service restarted by the supervisor, restart(), the state file, and stop().
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isProcessAlive, readStateFile, startCell, type CellHandle } from '@tessera/launcher';

let dir: string;
let cell: CellHandle;

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-launcher-'));
  cell = await startCell({ cell: 'launchertest', dataDir: join(dir, 'cell'), nodes: 120, nodesPerAgent: 50, schedulers: 2, partitions: 8, logLevel: 'warn' });
}, 120_000);

afterAll(async () => {
  await cell?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('startCell', () => {
  it('starts nats, cell-state, K schedulers and agents splitting the nodes', () => {
    expect(cell.services.map((s) => s.name)).toEqual(['nats', 'cell-state', 'scheduler-0', 'scheduler-1', 'agent-0', 'agent-1', 'agent-2']);
    expect(cell.services.filter((s) => s.kind === 'node-agent').map((s) => s.nodes)).toEqual([40, 40, 40]);
    expect(cell.natsUrl).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(cell.cellStateMetricsUrl).toMatch(/\/metrics$/);
    const ports = cell.services.map((s) => s.httpPort);
    expect(new Set(ports).size).toBe(ports.length);
    for (const s of cell.services) expect(isProcessAlive(s.pid)).toBe(true);
  });

  it('writes the state file', () => {
    const st = readStateFile(cell.stateFile!)!;
    expect(st).toMatchObject({ cell: 'launchertest', state: 'running', supervisorPid: process.pid, natsUrl: cell.natsUrl, nodes: 120, ownNats: true });
    expect(st.services).toHaveLength(7);
  });

  it('restarts a service killed with SIGKILL, on the same metrics port', async () => {
    const before = cell.service('scheduler-1')!;
    await cell.kill('scheduler-1');
    expect(isProcessAlive(before.pid)).toBe(false);
    const after = await until('the restart', () => { const s = cell.service('scheduler-1')!; return s.state === 'running' && s.pid !== before.pid && s; });
    expect(after.restarts).toBe(1);
    expect(after.metricsUrl).toBe(before.metricsUrl);
    expect((await fetch(after.metricsUrl!)).status).toBe(200);
    expect(readStateFile(cell.stateFile!)!.services.find((s) => s.name === 'scheduler-1')!.pid).toBe(after.pid);
  }, 60_000);

  it('restarts nats-server and the services keep working', async () => {
    const before = cell.service('nats')!;
    await cell.kill('nats');
    await until('nats back', () => cell.service('nats')!.state === 'running' && cell.service('nats')!.pid !== before.pid);
    // The agents re-register / heartbeat through the new server: cell-state keeps answering.
    const res = await until('cell-state metrics', () => cell.cellStateMetricsUrl);
    expect((await fetch(res)).status).toBe(200);
  }, 60_000);

  it('restart(name) stops and starts a service', async () => {
    const before = cell.service('agent-2')!;
    await cell.restart('agent-2');
    const after = cell.service('agent-2')!;
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(before.pid);
    expect(isProcessAlive(before.pid)).toBe(false);
  }, 60_000);

  it('refuses unknown service names', async () => {
    await expect(cell.kill('nope')).rejects.toThrow(/no service "nope"/);
  });

  it('stop() ends every process and marks the state file stopped', async () => {
    const pids = cell.services.map((s) => s.pid);
    await cell.stop();
    for (const p of pids) expect(isProcessAlive(p)).toBe(false);
    expect(cell.services.every((s) => s.state === 'stopped')).toBe(true);
    expect(readStateFile(cell.stateFile!)!.state).toBe('stopped');
    await cell.stop(); // idempotent
  }, 60_000);
});
