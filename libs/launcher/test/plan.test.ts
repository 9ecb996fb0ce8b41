import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { natsConfigText } from '../src/nats.ts';
import { CellPlanError, commonArgs, DEFAULT_HEARTBEAT_MS, DEFAULT_HEARTBEAT_TIMEOUT_MS, planCell, splitNodes } from '../src/plan.ts';
import { isProcessAlive, readStateFile, StateFileError, writeStateFile, type CellStateFile } from '../src/state-file.ts';

describe('splitNodes', () => {
  it.each([
    [0, 10_000, []],
    [300, 10_000, [{ offset: 0, count: 300 }]],
    [10_000, 10_000, [{ offset: 0, count: 10_000 }]],
    [10_001, 10_000, [{ offset: 0, count: 5001 }, { offset: 5001, count: 5000 }]],
    [25_000, 10_000, [{ offset: 0, count: 8334 }, { offset: 8334, count: 8333 }, { offset: 16_667, count: 8333 }]],
  ])('%i nodes, at most %i per agent', (nodes, per, want) => {
    const got = splitNodes(nodes, per);
    expect(got).toEqual(want);
    expect(got.reduce((n, x) => n + x.count, 0)).toBe(nodes);
  });
});

describe('planCell', () => {
  it('plans cell-state, K schedulers and agents with disjoint node ranges', () => {
    const plan = planCell({ cell: 'c', nodes: 15_000, nodesPerAgent: 10_000, schedulers: 3, partitions: 32, mode: 'adaptive', timeScale: 10, zones: ['a', 'b'] });
    expect(plan.map((p) => p.name)).toEqual(['cell-state', 'scheduler-0', 'scheduler-1', 'scheduler-2', 'agent-0', 'agent-1']);
    expect(plan[0].args).toEqual(['--heartbeat-timeout-ms', '10000', '--partitions', '32']);
    expect(plan[2].args).toEqual(['--index', '1', '--count', '3', '--mode', 'adaptive']);
    expect(plan[4].args).toEqual(['--id', 'agent-0', '--driver', 'sim', '--nodes', '7500', '--node-offset', '0', '--zones', 'a,b', '--time-scale', '10', '--heartbeat-ms', '1000']);
    expect(plan[5].args).toContain('7500');
    expect(plan[5].nodes).toBe(7500);
  });

  it('passes node shape, machines and extra flags', () => {
    const plan = planCell({ cell: 'c', nodes: 10, nodesPerAgent: 100, schedulers: 1, machines: '/m.jsonl.gz', nodeShape: { cpu_millis: 64_000, mem_mib: 1000 }, extraArgs: { scheduler: ['--sync-ms', '50'] } });
    expect(plan[1].args.slice(-2)).toEqual(['--sync-ms', '50']);
    expect(plan[2].args).toEqual(expect.arrayContaining(['--machines', '/m.jsonl.gz', '--cpu-millis', '64000', '--mem-mib', '1000']));
  });

  it('heartbeats agents every 1 s against a 10 s liveness timeout by default; options and extra flags win', () => {
    const plan = planCell({ cell: 'c', nodes: 10, nodesPerAgent: 100, schedulers: 1 });
    expect(plan[0].args).toEqual(['--heartbeat-timeout-ms', String(DEFAULT_HEARTBEAT_TIMEOUT_MS)]);
    expect(plan[2].args.slice(-2)).toEqual(['--heartbeat-ms', String(DEFAULT_HEARTBEAT_MS)]);
    expect(DEFAULT_HEARTBEAT_MS * 5).toBeLessThanOrEqual(DEFAULT_HEARTBEAT_TIMEOUT_MS);
    const custom = planCell({ cell: 'c', nodes: 10, nodesPerAgent: 100, schedulers: 1, heartbeatMs: 500, extraArgs: { 'cell-state': ['--heartbeat-timeout-ms', '3000'] } });
    expect(custom[2].args.slice(-2)).toEqual(['--heartbeat-ms', '500']);
    // Later flags win (runtime's parseFlagPairs), so the extra one sets the timeout.
    expect(custom[0].args.lastIndexOf('--heartbeat-timeout-ms')).toBe(2);
    expect(custom[0].args[3]).toBe('3000');
  });

  it.each([
    [{ nodes: -1 }], [{ schedulers: 0 }], [{ nodesPerAgent: 0 }], [{ partitions: 0 }], [{ timeScale: 0 }],
  ])('refuses %j', (bad) => {
    expect(() => planCell({ cell: 'c', nodes: 1, nodesPerAgent: 1, schedulers: 1, ...bad })).toThrow(CellPlanError);
  });

  it('common flags', () => {
    expect(commonArgs({ natsUrl: 'nats://x', cell: 'c', httpPort: 5, logLevel: 'warn', resources: ['cpu_millis'] }))
      .toEqual(['--nats', 'nats://x', '--cell', 'c', '--http-port', '5', '--log-level', 'warn', '--resources', 'cpu_millis']);
  });
});

describe('nats config and state file', () => {
  it('configures JetStream on loopback with an 8 MB max payload', () => {
    const text = natsConfigText({ dataDir: '/d', port: 4222, monitorPort: 8222, serverName: 's' });
    expect(text).toContain('listen: 127.0.0.1:4222');
    expect(text).toContain('max_payload: 8MB');
    expect(text).toContain('store_dir: "/d/jetstream"');
  });

  it('round-trips the state file and refuses foreign content', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-state-'));
    try {
      const path = join(dir, 'state.json');
      expect(readStateFile(path)).toBeUndefined();
      const s: CellStateFile = {
        version: 1, cell: 'c', state: 'running', supervisorPid: process.pid, natsUrl: 'nats://x', ownNats: true, dataDir: dir, nodes: 1,
        startedAt: 'now', updatedAt: 'now', services: [{ name: 'nats', kind: 'nats', state: 'running', restarts: 0, logFile: 'l' }],
      };
      writeStateFile(path, s);
      expect(readStateFile(path)).toEqual(s);
      writeFileSync(path, '{"hello": 1}');
      expect(() => readStateFile(path)).toThrow(StateFileError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('isProcessAlive', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(undefined)).toBe(false);
    expect(isProcessAlive(2 ** 22 + 12345)).toBe(false);
  });
});
