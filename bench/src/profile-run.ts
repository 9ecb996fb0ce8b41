/**
 * A profiled run: cell-state and the schedulers started with `node --cpu-prof` (through the
 * launcher's `nodeArgs`), one load step, then a graceful stop so each process writes its
 * .cpuprofile; each profile is summarised by self time (profile.ts).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@tessera/launcher';
import type { NodeShape } from '@tessera/launcher';
import type { BenchCellSpec } from './cell.ts';
import { startLoadedCell, type Log, type WorkloadSpec } from './experiments.ts';
import { profileFileIds, readCpuProfile, summariseProfile, type ProfileSummary, type ProfileWindow } from './profile.ts';
import { runSteps, type StepResult } from './runner.ts';

export interface ProfileOptions {
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly mode: string;
  readonly shape: NodeShape;
  readonly timeScale: number;
  readonly rate: number;
  readonly seconds: number;
  readonly dir: string;
  readonly top: number;
  readonly workload: WorkloadSpec;
}

export interface ProfiledProcess {
  readonly service: string;
  readonly file: string;
  readonly summary: ProfileSummary;
}

export interface ProfileResult {
  readonly spec: BenchCellSpec;
  readonly step: StepResult;
  readonly profiles: ProfiledProcess[];
  readonly dir: string;
  /** The measured window (µs, monotonic clock): only samples inside it are counted. */
  readonly window: ProfileWindow;
}

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

export async function runProfile(o: ProfileOptions, log: Log): Promise<ProfileResult> {
  const dirs = { 'cell-state': join(o.dir, 'cell-state'), scheduler: join(o.dir, 'scheduler'), 'node-agent': join(o.dir, 'node-agent') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const prof = (d: string) => ['--cpu-prof', '--cpu-prof-dir', d];
  const spec: BenchCellSpec = {
    nodes: o.nodes, schedulers: o.schedulers, partitions: o.partitions, mode: o.mode, timeScale: o.timeScale, nodeShape: o.shape,
    nodeArgs: { 'cell-state': prof(dirs['cell-state']), scheduler: prof(dirs.scheduler), 'node-agent': prof(dirs['node-agent']) },
  };
  const { cell } = await startLoadedCell('profile', spec, o.workload, log);
  let step: StepResult;
  const warm = Math.min(5, o.seconds / 4);
  const pids = new Map(cell.handle.services.filter((s) => s.pid !== undefined).map((s) => [s.pid!, s.name]));
  const fromUs = monotonicUs() + warm * 1e6;
  let toUs: number;
  try {
    const r = await runSteps(cell, [{ label: 'profiled', rate: o.rate, seconds: o.seconds, warmSeconds: warm }], { log: (l) => log(`  ${l}`) });
    toUs = monotonicUs();
    step = r.steps[0];
  } finally {
    // SIGTERM: the services drain and exit, and node writes the profiles on the way out.
    await cell.stop();
  }
  // Main threads only (tid 0): the other profile of each process is tsx's module-loader thread.
  const window: ProfileWindow = { fromUs, toUs };
  const profiles: ProfiledProcess[] = [];
  for (const d of Object.values(dirs)) {
    for (const f of readdirSync(d).sort()) {
      const ids = profileFileIds(f);
      if (ids === undefined || ids.tid !== 0) continue;
      const file = join(d, f);
      profiles.push({ service: pids.get(ids.pid) ?? `pid ${ids.pid}`, file, summary: summariseProfile(readCpuProfile(file), o.top, REPO_ROOT, window) });
    }
  }
  profiles.sort((a, b) => a.service.localeCompare(b.service, 'en', { numeric: true }));
  if (profiles.length === 0) log('  no .cpuprofile written (did the services exit gracefully?)');
  return { spec, step, profiles, dir: o.dir, window };
}
