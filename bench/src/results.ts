/** The results files in bench/results: what one invocation measured, with the setup it ran on. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, natsServerBinary } from '@tessera/launcher';
import type { CompareResult } from './compare.ts';
import type { ProfileResult } from './profile-run.ts';
import type { ScaleResult } from './scale.ts';
import type { CellRun, SaturationResult } from './experiments.ts';

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

export interface Setup {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memGb: number;
  readonly node: string;
  readonly nats: string;
  readonly commit: string;
  readonly loadAvgAtStart: readonly number[];
  readonly nodes: number;
  readonly schedulers: number;
  readonly partitions: number;
  readonly shape: Readonly<Record<string, number>>;
  readonly timeScale: number;
  readonly workload: { readonly source: string; readonly seed: string; readonly jobs: number; readonly meanTasksPerJob: number; readonly replay?: string; readonly speed?: number };
  /** Offered utilisation (bottleneck resource) per job/s at this time scale. */
  readonly utilisationPerJobPerS: number;
}

export type ResultsFile =
  | { readonly kind: 'compare'; readonly version: 1; readonly timestamp: string; readonly command: string; readonly setup: Setup; readonly compare: CompareResult }
  | { readonly kind: 'scale'; readonly version: 1; readonly timestamp: string; readonly command: string; readonly setup: Setup; readonly scale: ScaleResult }
  | { readonly kind: 'profile'; readonly version: 1; readonly timestamp: string; readonly command: string; readonly setup: Setup; readonly profile: ProfileResult }
  | { readonly kind: 'run'; readonly version: 1; readonly timestamp: string; readonly command: string; readonly setup: Setup; readonly run: CellRun; readonly saturation?: SaturationResult };

export function machineFacts(): Pick<Setup, 'cores' | 'cpuModel' | 'memGb' | 'node' | 'nats' | 'commit' | 'loadAvgAtStart'> {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '?';
    }
  };
  return {
    cores: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memGb: Math.round(totalmem() / 2 ** 30), node: process.version,
    nats: sh(natsServerBinary(), ['--version']), commit: sh('git', ['rev-parse', '--short', 'HEAD']), loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** `2025-11-21T01-02-03Z`: sortable, and safe in file names. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

/** Drops what only bloats the files (full histograms stay in the timeline-free step metrics). */
function replacer(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'number' && !Number.isInteger(value)) return Math.round(value * 10_000) / 10_000;
  return key === 'file' && typeof value === 'string' ? value.replace(`${REPO_ROOT}/`, '') : value;
}

export function writeResults(r: ResultsFile, name = `${r.timestamp}${r.kind === 'compare' ? '' : `-${r.kind}`}`): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(r, replacer, 1)}\n`);
  return path;
}

/** The newest results file of a kind (by name: timestamps sort). */
export function latestResults<K extends ResultsFile['kind']>(kind: K): Extract<ResultsFile, { kind: K }> | undefined {
  let files: string[];
  try {
    files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).sort().reverse();
  } catch {
    return undefined;
  }
  for (const f of files) {
    try {
      const r = JSON.parse(readFileSync(join(RESULTS_DIR, f), 'utf8')) as ResultsFile;
      if (r.kind === kind) return r as Extract<ResultsFile, { kind: K }>;
    } catch { /* not ours */ }
  }
  return undefined;
}
