/** A small real cell and a steady job load, shared by the operations tests (Prometheus, console). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCell, type CellHandle } from '@tessera/launcher';
import { subjectsFor } from '@tessera/protocol';
import { connectNats, createLogger } from '@tessera/runtime';
import type { JobSpec } from '@tessera/core';
import { JobPublisher } from '../../cli/src/shell/submit.ts';

export interface OpsCell {
  readonly cell: CellHandle;
  readonly dir: string;
  close(): Promise<void>;
}

/** `dataDirIn`: the cell's folder is `<dir>/<dataDirIn>/<name>` (where `tessera --data-dir <dir>/<dataDirIn> --cell <name>` finds its state file). */
export async function startOpsCell(name: string, opts: { nodes?: number; schedulers?: number; partitions?: number; dataDirIn?: string } = {}): Promise<OpsCell> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  const cell = await startCell({
    cell: name, dataDir: opts.dataDirIn !== undefined ? join(dir, opts.dataDirIn, name) : join(dir, 'cell'), nodes: opts.nodes ?? 200, nodesPerAgent: 10_000, schedulers: opts.schedulers ?? 2,
    partitions: opts.partitions ?? 8, logLevel: 'warn', timeScale: 1, tenants: ['ops'],
  });
  return { cell, dir, close: async () => { await cell.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

export function smallJob(id: string, tasks = 4, durationS = 1): JobSpec {
  return { id, tenant: 'ops', queue: 'default', priority: 100, gang: false, tasks: [{ name: 'work', count: tasks, resources: { cpu_millis: 100, mem_mib: 64 }, duration_s: durationS }] } as unknown as JobSpec;
}

/** Publishes `perSecond` small jobs a second until stopped, as the cell's submitter of tenant `ops`. */
export async function startLoad(ops: OpsCell, cell: string, perSecond = 10): Promise<{ stop(): Promise<number> }> {
  const nc = await connectNats(ops.cell.natsUrl, 'ops test load', createLogger('load', 'silent'), ops.cell.credentials({ role: 'submitter', tenant: 'ops' }));
  const pub = new JobPublisher(nc, subjectsFor(cell));
  let n = 0;
  const timer = setInterval(() => { void pub.publish(smallJob(`load-${Date.now().toString(36)}-${n++}`), Date.now()); }, 1000 / perSecond);
  return {
    async stop() {
      clearInterval(timer);
      await pub.flush();
      await nc.close();
      return n;
    },
  };
}
