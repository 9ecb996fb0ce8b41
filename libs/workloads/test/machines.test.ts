import { readFileSync } from 'node:fs';
import { CellState, ResourceSpace } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  BUNDLED,
  CELL_SHAPES,
  cellCapacity,
  convertMachine,
  nodeRegistration,
  readMachines,
  syntheticCell,
  syntheticTopology,
  zoneName,
} from '../src/index.ts';

const stats = JSON.parse(readFileSync(BUNDLED.stats, 'utf8')) as {
  alibaba2017: { machines: number };
  alibaba_gpu2023: { machines: number; machine_totals: { cpu_millis: number; mem_mib: number; gpus: number } };
};

describe('alibaba2017 machines', () => {
  it('1 313 machines with 64 cores, the common shape, synthetic zone/rack labels', async () => {
    const { machines, stats: s } = await readMachines(BUNDLED.alibaba2017Machines);
    expect(s).toMatchObject({ records: stats.alibaba2017.machines, machines: 1313, skipped: {} });
    expect(machines.every((m) => m.capacity.cpu_millis === 64_000)).toBe(true);
    // mem_norm 0.6900 (to 4 digits; three slightly different raw values) on 1 300 machines.
    expect(machines.filter((m) => Math.abs(m.capacity.mem_mib / CELL_SHAPES.alibaba2017.mem_mib - 1) < 1e-4)).toHaveLength(1300);
    expect(machines[0]).toEqual({ id: '1', labels: { zone: 'a', rack: 'r0' }, capacity: CELL_SHAPES.alibaba2017 });
    expect(machines[40].labels).toEqual({ zone: 'b', rack: 'r1' });
    expect(new Set(machines.map((m) => m.labels.zone))).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('register into a core cell', async () => {
    const { machines } = await readMachines(BUNDLED.alibaba2017Machines);
    const cell = new CellState(ResourceSpace.default, 16);
    for (const m of machines) cell.upsertNode(nodeRegistration(m));
    expect(cell.nodeCount).toBe(1313);
    expect(cell.totals().capacity[0]).toBe(1313 * 64_000);
  });
});

describe('alibaba_gpu2023 machines', () => {
  it('1 523 nodes whose totals match the trace; gpu_model label on GPU nodes', async () => {
    const { machines } = await readMachines(BUNDLED.alibabaGpu2023Machines);
    expect(machines).toHaveLength(stats.alibaba_gpu2023.machines);
    const total = cellCapacity(machines);
    const t = stats.alibaba_gpu2023.machine_totals;
    expect(total).toEqual({ cpu_millis: t.cpu_millis, mem_mib: t.mem_mib, gpu: t.gpus, gpu_milli: t.gpus * 1000 });
    for (const m of machines) expect(m.labels.gpu_model !== undefined).toBe(m.capacity.gpu > 0);
    expect(machines.filter((m) => m.labels.gpu_model === 'G2')).toHaveLength(549);
  });
});

describe('machine records', () => {
  it.each([
    [{ machine: 'x', cpu_cores: 'many', mem_norm: 1 }, 'invalid_record'],
    [{ machine: 'openb-node-1', cpu_millis: 1, mem_mib: 1, num_gpu: 1.5, gpu_model: 'T4' }, 'invalid_record'],
    [{ id: 'n1', capacity: { cpu_millis: -1 } }, 'invalid_record'],
    [{ id: 'n1', capacity: {}, labels: { zone: 3 } }, 'invalid_record'],
    [{ what: 1 }, 'unknown_format'],
  ])('%j is refused (%s)', (rec, reason) => {
    expect(convertMachine(rec)).toMatchObject({ ok: false, reason });
  });

  it("tessera's own records keep their labels", () => {
    expect(convertMachine({ id: 'n1', labels: { zone: 'eu' }, capacity: { cpu_millis: 4000 } })).toEqual({
      ok: true, machine: { id: 'n1', labels: { zone: 'eu' }, capacity: { cpu_millis: 4000 } },
    });
  });

  it('nodeRegistration refuses a resource the space lacks', () => {
    expect(() => nodeRegistration({ id: 'n', labels: {}, capacity: { disk_mib: 1 } })).toThrow(RangeError);
  });
});

describe('syntheticCell', () => {
  it('100 000 nodes of the alibaba2017 shape, deterministic and unique', () => {
    const cell = syntheticCell(100_000, CELL_SHAPES.alibaba2017);
    expect(cell).toHaveLength(100_000);
    expect(cell[0]).toEqual({ id: 'node-00000', labels: { zone: 'a', rack: 'r0' }, capacity: CELL_SHAPES.alibaba2017 });
    expect(cell[99_999]).toEqual({ id: 'node-99999', labels: { zone: 'd', rack: 'r2499' }, capacity: CELL_SHAPES.alibaba2017 });
    expect(new Set(cell.map((n) => n.id)).size).toBe(100_000);
    expect(syntheticCell(100_000, CELL_SHAPES.alibaba2017)[12_345]).toEqual(cell[12_345]);
  });

  it('shape, topology and extra labels are options', () => {
    const cell = syntheticCell(3, CELL_SHAPES.google2011, { idPrefix: 'g-', topology: { rackSize: 2, zones: 2 }, labels: { pool: 'x' } });
    expect(cell.map((n) => [n.id, n.labels])).toEqual([
      ['g-0', { pool: 'x', zone: 'a', rack: 'r0' }],
      ['g-1', { pool: 'x', zone: 'a', rack: 'r0' }],
      ['g-2', { pool: 'x', zone: 'b', rack: 'r1' }],
    ]);
    expect(cell[0].capacity).toEqual({ cpu_millis: 32_000, mem_mib: 131_072 });
    expect(() => syntheticCell(-1, CELL_SHAPES.google2011)).toThrow(RangeError);
    expect(() => syntheticCell(1, { cpu_millis: Number.NaN })).toThrow(RangeError);
  });

  it('zone names go a … z, aa, ab …', () => {
    expect([0, 1, 25, 26, 27].map(zoneName)).toEqual(['a', 'b', 'z', 'aa', 'ab']);
    expect(syntheticTopology(5, { rackSize: 1, zones: 30 })).toEqual({ zone: 'f', rack: 'r5' });
  });
});
