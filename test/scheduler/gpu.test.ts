/**
 * GPU devices through the real services (DESIGN §12): openb-shaped GPU nodes (real rows of the
 * openb node list: 8×G2 and 2×T4 machines), real openb pods (whole GPUs and shares), and two
 * scheduler replicas racing — one placing with `fgd`, one with `bestfit` — against one
 * cell-state over a real nats-server. Every device stays within 1000 milli, the per-device milli
 * adds up to the node's gpu_milli, and listings show the devices and the GPU model.
 */
import { ResourceSpace } from '@tessera/core';
import { registerReply } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { BUNDLED, loadTrace, readMachines } from '@tessera/workloads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCES, assertNoOverCommit, nodes, startTestCell, submit, waitForJobs, type TestCell } from './harness.ts';

const space = ResourceSpace.of(RESOURCES);

describe('scheduler: GPU devices, fgd and bestfit racing', () => {
  let cell: TestCell;
  const ids: string[] = [];

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 2 });
    const { machines } = await readMachines(BUNDLED.alibabaGpu2023Machines);
    const g2 = machines.filter((m) => m.labels.gpu_model === 'G2').slice(0, 3);
    const t4 = machines.filter((m) => m.labels.gpu_model === 'T4').slice(0, 3);
    await request(cell.nc, cell.subjects.nodeRegister('gpu-agent'), { agent: 'gpu-agent', nodes: [...g2, ...t4].map((m) => ({ id: m.id, labels: m.labels, capacity: m.capacity })) }, registerReply);
    // 30 GPUs in all; 36 GPU pods from the trace (shares and whole GPUs) ask for about that much.
    const { jobs } = await loadTrace(BUNDLED.alibabaGpu2023Jobs, { space, requireDuration: false });
    const gpuPods = jobs.filter((j) => (j.job.tasks[0].resources.gpu_milli ?? 0) > 0).slice(0, 36);
    await cell.startScheduler(['--index', '0', '--count', '2', '--scorer', 'fgd', '--mode', 'quality-first', '--max-wait-ms', '3000']);
    await cell.startScheduler(['--index', '1', '--count', '2', '--scorer', 'bestfit', '--mode', 'quality-first', '--max-wait-ms', '3000']);
    for (const j of gpuPods) {
      ids.push(j.job.id);
      await submit(cell, { ...j.job, tasks: j.job.tasks.map((t) => ({ ...t, duration_s: undefined })) });
    }
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  it('places shares on one device and whole GPUs on free devices; no device over 1000 milli', async () => {
    const list = await waitForJobs(cell, ids, ['placed', 'running', 'unschedulable'], 40_000);
    expect(list.filter((j) => j.state !== 'unschedulable').length).toBeGreaterThan(20);
    const ns = await nodes(cell);
    assertNoOverCommit(ns);
    for (const n of ns) {
      expect(n.gpu_model).toBe(n.labels.gpu_model);
      expect(n.gpus).toHaveLength(n.capacity.gpu);
      let sum = 0;
      for (const d of n.gpus!) {
        expect(d.allocated_milli).toBeLessThanOrEqual(1000);
        sum += d.allocated_milli;
      }
      expect(sum).toBe(n.allocated.gpu_milli);
      // Whole GPUs booked = devices held entirely by whole-GPU tasks, at most the fully booked ones.
      expect(n.allocated.gpu ?? 0).toBeLessThanOrEqual(n.gpus!.filter((d) => d.allocated_milli === 1000).length);
    }
  }, 60_000);
});
