/**
 * Per-process CPU and memory from Linux's /proc, read from outside the processes:
 * `/proc/<pid>/stat` (utime + stime in clock ticks) and `/proc/<pid>/status` (VmRSS, VmHWM = peak
 * resident set), and `/proc/stat` for the whole machine (to see how much CPU *other* work took
 * while we measured: colleagues' test runs share these cores). Parsers are pure; readers are thin.
 */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface ProcStat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  /** User and system CPU time of the process itself, in clock ticks. */
  readonly utime: number;
  readonly stime: number;
  /** Start time after boot, in clock ticks. */
  readonly starttime: number;
  readonly rssPages: number;
}

export class ProcParseError extends Error {
  override readonly name = 'ProcParseError';
}

/**
 * Parses one line of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may
 * itself contain spaces and parentheses, so the fields are split after the *last* `)`.
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new ProcParseError(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  const comm = text.slice(open + 1, close);
  // After ')': field 3 (state) is rest[0]; field n is rest[n - 3].
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const field = (n: number) => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new ProcParseError(`field ${n} of /proc/${pid}/stat is not a number`);
    return v;
  };
  return {
    pid, comm, state: rest[0], ppid: field(4), utime: field(14), stime: field(15), starttime: field(22), rssPages: field(24),
  };
}

export interface ProcStatus {
  /** Current resident set size, kB. */
  readonly vmRssKb: number;
  /** Peak resident set size ("high water mark"), kB. */
  readonly vmHwmKb: number;
  readonly threads: number;
}

/** Parses `/proc/<pid>/status` (only the fields the benchmark reports). */
export function parseProcStatus(text: string): ProcStatus {
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  const t = /^Threads:\s+(\d+)/m.exec(text);
  return { vmRssKb: kb('VmRSS'), vmHwmKb: kb('VmHWM'), threads: t ? Number(t[1]) : Number.NaN };
}

/** Whole-machine CPU ticks from the first line of `/proc/stat`. */
export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

export function parseMachineStat(text: string): MachineCpu {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new ProcParseError('no aggregate "cpu" line in /proc/stat');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest fields are already inside user/nice).
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** A process's CPU between two readings, in cores (1 = one core fully busy). */
export function cpuCores(a: ProcStat, b: ProcStat, elapsedS: number, ticksPerS: number): number {
  if (!(elapsedS > 0)) return Number.NaN;
  return (b.utime + b.stime - (a.utime + a.stime)) / ticksPerS / elapsedS;
}

/** Fraction of the machine (all cores) busy between two readings of /proc/stat. */
export function machineBusy(a: MachineCpu, b: MachineCpu): number {
  const total = b.total - a.total;
  return total > 0 ? (b.busy - a.busy) / total : Number.NaN;
}

let cachedTicks: number | undefined;
/** `getconf CLK_TCK` (100 on every Linux we know of; asked once). */
export function clockTicksPerSecond(): number {
  if (cachedTicks === undefined) {
    try {
      cachedTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      cachedTicks = 100;
    }
  }
  return cachedTicks;
}

/** Reads a process's stat and status; undefined when it has exited. */
export function readProc(pid: number): { stat: ProcStat; status: ProcStatus } | undefined {
  try {
    return { stat: parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')), status: parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8')) };
  } catch {
    return undefined;
  }
}

export function readMachineCpu(): MachineCpu {
  return parseMachineStat(readFileSync('/proc/stat', 'utf8'));
}
