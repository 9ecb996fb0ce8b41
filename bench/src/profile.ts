/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) and ranks functions by self time, and
 * files/packages by self time, so the report can say what dominates a service's CPU. Pure apart
 * from `readCpuProfile`.
 *
 * Self time of a node = the sum of the sampling intervals (`timeDeltas`) of the samples that
 * landed in it; nodes with the same function, file and line (the same code reached by different
 * call paths) are merged.
 */
import { readFileSync } from 'node:fs';

export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number; readonly columnNumber?: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface SelfTimeRow {
  readonly functionName: string;
  /** File, shortened to what follows the repository root or `node_modules/`. */
  readonly location: string;
  readonly selfMs: number;
  /** Share of all sampled time (idle included). */
  readonly share: number;
  /** Share of the non-idle time (the process's actual CPU). */
  readonly busyShare: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly gcMs: number;
  readonly top: SelfTimeRow[];
  /** Self time grouped by package or source file (node_modules package, repo file, node internals). */
  readonly byModule: { readonly module: string; readonly selfMs: number; readonly busyShare: number }[];
}

const IDLE = new Set(['(idle)']);

/** Shortens a profile URL: `file:///work/main/libs/core/src/x.ts` → `libs/core/src/x.ts`. */
export function shortLocation(url: string, root?: string): string {
  if (url === '') return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + 1);
  if (root !== undefined && u.startsWith(root)) u = u.slice(root.length).replace(/^\//, '');
  return u;
}

/** The module a location belongs to: an npm package, a repo file, or node's internals. */
export function moduleOf(location: string): string {
  if (location === '') return '(native/vm)';
  if (location.startsWith('node:')) return 'node internals';
  if (location.startsWith('node_modules/')) {
    const parts = location.split('/');
    return parts[1].startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
  }
  return location;
}

/**
 * A time window on the profile's clock (µs; V8 stamps samples with the monotonic clock, the same
 * as `process.hrtime` in any process of the machine), to keep only the samples of a measured step.
 */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Self time per node id in ms: from samples × timeDeltas when present, else hitCount × mean interval. */
function selfTimes(p: CpuProfile, window?: ProfileWindow): Map<number, number> {
  const out = new Map<number, number>();
  if (p.samples !== undefined && p.timeDeltas !== undefined && p.samples.length === p.timeDeltas.length && p.samples.length > 0) {
    // timeDeltas[i] is the gap before sample i; attribute the gap after each sample to it (the
    // sample stands for the interval that follows), the usual Chrome DevTools convention.
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i];
      if (window !== undefined && (t < window.fromUs || t > window.toUs)) continue;
      const dt = i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : 0;
      out.set(p.samples[i], (out.get(p.samples[i]) ?? 0) + Math.max(0, dt) / 1000);
    }
    return out;
  }
  const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const interval = hits > 0 ? (p.endTime - p.startTime) / 1000 / hits : 0;
  for (const n of p.nodes) if (n.hitCount) out.set(n.id, n.hitCount * interval);
  return out;
}

export function summariseProfile(p: CpuProfile, topN = 20, root?: string, window?: ProfileWindow): ProfileSummary {
  const self = selfTimes(p, window);
  const byKey = new Map<string, { functionName: string; location: string; ms: number }>();
  const byModule = new Map<string, number>();
  let total = 0, idle = 0, gc = 0;
  for (const n of p.nodes) {
    const ms = self.get(n.id) ?? 0;
    if (ms === 0) continue;
    total += ms;
    const fn = n.callFrame.functionName || '(anonymous)';
    if (IDLE.has(fn)) { idle += ms; continue; }
    if (fn === '(garbage collector)') gc += ms;
    const location = shortLocation(n.callFrame.url, root);
    const key = `${fn}\u0000${location}\u0000${n.callFrame.lineNumber}`;
    const row = byKey.get(key);
    if (row) row.ms += ms;
    else byKey.set(key, { functionName: fn, location: location === '' ? '' : `${location}:${n.callFrame.lineNumber + 1}`, ms });
    const mod = fn.startsWith('(') && location === '' ? fn : moduleOf(location);
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
  }
  const busy = total - idle;
  const top = [...byKey.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, topN)
    .map((r) => ({ functionName: r.functionName, location: r.location, selfMs: r.ms, share: total > 0 ? r.ms / total : 0, busyShare: busy > 0 ? r.ms / busy : 0 }));
  const modules = [...byModule.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([module, ms]) => ({ module, selfMs: ms, busyShare: busy > 0 ? ms / busy : 0 }));
  return { totalMs: total, idleMs: idle, gcMs: gc, top, byModule: modules };
}

/** `CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile` (node's naming): pid and thread id (0 = main). */
export function profileFileIds(name: string): { pid: number; tid: number } | undefined {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(name);
  return m ? { pid: Number(m[1]), tid: Number(m[2]) } : undefined;
}

export function readCpuProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** A plain-text table of the top rows (for the console and the markdown report). */
export function formatTop(s: ProfileSummary, n = s.top.length): string {
  const lines = [`busy ${(s.totalMs - s.idleMs).toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms sampled (gc ${s.gcMs.toFixed(0)} ms)`];
  for (const r of s.top.slice(0, n)) lines.push(`${(r.busyShare * 100).toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.functionName}  ${r.location}`);
  return lines.join('\n');
}
