/**
 * `npm run bench -- --fgd POLICY --seed S --json`: FGD's openb experiment (docs/fgd.md) through
 * the real services instead of the simulator's in-process committer.
 *
 * The cell: cell-state, one scheduler and one node agent over a real nats-server, the agent hosting
 * the 1,213 openb GPU nodes under the names FGD's simulator gives them for the seed (fgdNodes), one
 * partition. The scheduler runs FGD's setting: quality-first, every node scored (`--sample-size`
 * above the node count), nodes visited in listed (name) order so ties go to the first
 * (`--visit-order listed`), the policy's scorer alone (`--pipeline`, the simulator's spec), no
 * preemption, and a pod that finds no room given up at once (`--max-wait-ms 0`: nothing ever
 * leaves, so it never would). Pods (fgdArrivals: FGD's own shuffle and tuning for seeds 42..51)
 * are submitted one at a time, each after the previous one was placed or given up, and never end.
 * After each placement the node's listing (CPU and per-device milli) updates a mirror of the
 * cell, from which the fragmentation rate is computed as in the simulator.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec } from '@tessera/core';
import { jobsListingReply, nodesListingReply, subjectsFor, type JobListing } from '@tessera/protocol';
import { freeInto, nodeFrag, shapeOfTask, type FragNode } from '@tessera/policy';
import { JobPublisher, request } from '@tessera/runtime';
import { curveAt, discreteCurve, fgdArrivals, fgdNodes, loadOpenb, pipelineSpecFor, totalMilliOf, traceMix, type FgdRunResult, type GpuPolicy, type GpuRecord } from '@tessera/sim/fgd';
import { CELL_SHAPES } from '@tessera/workloads';
import { BenchCell } from './cell.ts';

/** Pods run "forever" (FGD's pods never leave). */
const NEVER_S = 31_536_000; // the longest run time a job may ask (a year)
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface FgdServicesResult extends Omit<FgdRunResult, 'curve'> {
  readonly wall_s: number;
  readonly load_avg: readonly number[];
}

export async function runFgdServices(policy: GpuPolicy, seed: number, log: (line: string) => void): Promise<FgdServicesResult> {
  const cell = await loadOpenb();
  const arrivals = fgdArrivals(cell, seed);
  const nodes = fgdNodes(cell, seed);
  const space = cell.space;
  const [cpu, mem, gpu] = ['cpu_millis', 'mem_mib', 'gpu'].map((r) => space.indexOf(r)!);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fgd-'));
  const machines = join(dir, 'openb-gpu-nodes.jsonl');
  writeFileSync(machines, nodes.map((n) => JSON.stringify({ machine: n.id, cpu_millis: n.capacity[cpu], mem_mib: n.capacity[mem], num_gpu: n.capacity[gpu], gpu_model: n.labels.gpu_model ?? null })).join('\n') + '\n');
  const pipeline = join(dir, 'pipeline.json');
  writeFileSync(pipeline, JSON.stringify(pipelineSpecFor(cell, { policy, seed })));
  const bench = await BenchCell.start(`fgd${process.pid}`, {
    nodes: nodes.length, schedulers: 1, partitions: 1, mode: 'quality-first', timeScale: 1, nodeShape: CELL_SHAPES.alibaba_gpu2023, machines, security: 'off',
    extraArgs: { scheduler: ['--pipeline', pipeline, '--sample-size', String(nodes.length + 1), '--visit-order', 'listed', '--preemption', 'off', '--max-wait-ms', '0'] },
  });
  try {
    await bench.waitSchedulersReady();
    const subjects = subjectsFor(bench.name);
    // The cell must be the openb GPU cell exactly: its nodes under FGD's names, its GPUs.
    let listed = 0;
    let listedMilli = 0;
    for (let offset = 0; ; offset += 1000) {
      const page = await request(bench.nc, subjects.queryNodes, { offset, limit: 1000 }, nodesListingReply, { timeoutMs: 10_000 });
      for (const n of page.items) {
        listed++;
        listedMilli += n.capacity.gpu_milli ?? 0;
      }
      if (page.items.length < 1000) break;
    }
    if (listed !== nodes.length || listedMilli !== cell.gpuMilli) {
      throw new Error(`the cell lists ${listed} nodes with ${listedMilli} GPU milli, not the openb cell's ${nodes.length} with ${cell.gpuMilli}`);
    }
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    log(`== fgd through the services: ${policy}, seed ${seed}, ${arrivals.length} pods, ${nodes.length} nodes; load average ${load.join(' ')}`);

    // The cell as fragmentation sees it, node by node, kept from the listings.
    const mix = traceMix(cell);
    const mirror = new Map<string, { node: FragNode & { free: Float64Array; cpuLeft: number }; frag: number; free: number }>();
    let fragMilli = 0;
    let freeMilli = 0;
    for (const n of nodes) {
      const devices = n.capacity[gpu];
      const f = new Float64Array(Math.max(1, devices));
      freeInto(f, undefined, undefined, devices);
      const node = { cpuLeft: n.capacity[cpu], free: f, devices, model: n.labels.gpu_model };
      const frag = nodeFrag(mix, node);
      mirror.set(n.id, { node, frag, free: devices * 1000 });
      fragMilli += frag;
      freeMilli += devices * 1000;
    }

    const pub = new JobPublisher(bench.nc, subjects, { window: 1 });
    const records: GpuRecord[] = [];
    let arrived = 0;
    let allocated = 0;
    let placed = 0;
    const t0 = performance.now();
    for (let k = 0; k < arrivals.length; k++) {
      const t = arrivals[k];
      const id = `pod-${k}`;
      const job = { id, tenant: 'openb', queue: 'default', priority: 100, gang: false, tasks: [{ name: t.group, count: 1, resources: space.record(t.demand), duration_s: NEVER_S, ...(t.constraints === undefined ? {} : { constraints: t.constraints }) }] } as unknown as JobSpec;
      await pub.publish(job, Date.now());
      const listing = await waitSettled(bench, subjects.queryJobs, id);
      arrived += totalMilliOf(shapeOfTask(t, space));
      const nodeId = listing.state === 'placed' || listing.state === 'running' ? listing.tasks[0]?.node : undefined;
      if (nodeId !== undefined) {
        placed++;
        allocated += t.demand[space.indexOf('gpu_milli')!];
        const r = await request(bench.nc, subjects.queryNodes, { ids: [nodeId], limit: 1, offset: 0 }, nodesListingReply, { timeoutMs: 10_000 });
        const ln = r.items[0];
        const m = mirror.get(nodeId);
        if (ln !== undefined && m !== undefined) {
          m.node.cpuLeft = (ln.capacity.cpu_millis ?? 0) - (ln.allocated.cpu_millis ?? 0);
          const used = new Float64Array(m.node.devices);
          for (const g of ln.gpus ?? []) if (g.index < used.length) used[g.index] = g.allocated_milli;
          freeInto(m.node.free, used, undefined, m.node.devices);
          let free = 0;
          for (let i = 0; i < m.node.devices; i++) free += m.node.free[i];
          const frag = nodeFrag(mix, m.node);
          fragMilli += frag - m.frag;
          freeMilli += free - m.free;
          m.frag = frag;
          m.free = free;
        }
      }
      records.push({ arrivedMilli: arrived, allocatedMilli: allocated, fragMilli, freeMilli });
      if ((k + 1) % 2000 === 0) log(`  ${k + 1}/${arrivals.length} pods, ${placed} placed, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const curve = discreteCurve(records, cell.gpuMilli);
    return {
      policy, seed,
      alloc_pct_at_100: curveAt(curve, curve.alloc_pct, 100) ?? null,
      alloc_pct_at_130: curveAt(curve, curve.alloc_pct, 130) ?? null,
      frag_rate_at_90: curveAt(curve, curve.frag_pct, 90) ?? null,
      pods: arrivals.length, placed, failed: arrivals.length - placed, wall_s: Math.round((performance.now() - t0) / 100) / 10, load_avg: load,
    };
  } finally {
    await bench.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls the job until it is placed or given up (FGD: one pod at a time). */
async function waitSettled(bench: BenchCell, subject: string, id: string): Promise<JobListing> {
  const deadline = Date.now() + 30_000;
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    const r = await request(bench.nc, subject, { ids: [id], limit: 1, offset: 0 }, jobsListingReply, { timeoutMs: 10_000 });
    const j = r.items[0] as JobListing | undefined;
    if (j !== undefined && j.state !== 'pending') return j;
    if (Date.now() > deadline) throw new Error(`pod ${id} neither placed nor given up after 30 s (state ${j?.state ?? 'not listed'})`);
    await sleep(wait);
  }
}
