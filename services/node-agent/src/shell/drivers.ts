/**
 * Task drivers: `sim` (a timer per task, thousands of virtual nodes per process) and `exec`
 * (the real host: `command` as a child process, output to a per-task log file, exit code
 * reported). A driver calls `onEnd` once when a task ends by itself; a task stopped with `stop`
 * never calls it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Assignment } from '@tessera/protocol';
import type { Logger } from '@tessera/runtime';
import { execResult, simDurationMs, taskLogFileName, type SimTiming } from '../core/run-policy.ts';
import type { TaskResult } from '../core/task-book.ts';

export type OnTaskEnd = (taskId: string, result: TaskResult) => void;

export interface TaskDriver {
  readonly kind: 'sim' | 'exec';
  start(a: Assignment): void;
  stop(taskId: string): void;
  /** Stops every task (agent shutdown). */
  stopAll(): Promise<void>;
}

/** The longest delay setTimeout honours (2^31 − 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export class SimDriver implements TaskDriver {
  readonly kind = 'sim';
  private readonly timers = new Map<string, NodeJS.Timeout | null>();
  constructor(private readonly timing: SimTiming, private readonly onEnd: OnTaskEnd) {}

  start(a: Assignment): void {
    const ms = simDurationMs(a, this.timing);
    if (ms === undefined) {
      this.timers.set(a.taskId, null);
      return;
    }
    this.arm(a.taskId, ms);
  }

  /**
   * Ends the task after `ms`, in steps of at most MAX_TIMER_MS: Node fires a setTimeout longer
   * than 2^31 − 1 ms (24.8 days) after 1 ms, so a task asking a year ended at once.
   */
  private arm(taskId: string, ms: number): void {
    const step = Math.min(ms, MAX_TIMER_MS);
    const t = setTimeout(() => {
      if (ms > step) return this.arm(taskId, ms - step);
      this.timers.delete(taskId);
      this.onEnd(taskId, { outcome: 'succeeded', exitCode: 0 });
    }, step);
    this.timers.set(taskId, t);
  }

  stop(taskId: string): void {
    const t = this.timers.get(taskId);
    if (t) clearTimeout(t);
    this.timers.delete(taskId);
  }

  async stopAll(): Promise<void> {
    for (const id of [...this.timers.keys()]) this.stop(id);
  }
}

export interface ExecDriverOptions {
  /** Task logs go to `<dataDir>/logs/<task>.log`. */
  readonly dataDir: string;
  /** Time between SIGTERM and SIGKILL when stopping a task. */
  readonly killGraceMs?: number;
  readonly log: Logger;
}

interface ExecTask {
  readonly child: ChildProcess;
  stopped: boolean;
  readonly exited: Promise<void>;
}

export class ExecDriver implements TaskDriver {
  readonly kind = 'exec';
  private readonly tasks = new Map<string, ExecTask>();
  private readonly logDir: string;
  constructor(private readonly opts: ExecDriverOptions, private readonly onEnd: OnTaskEnd) {
    this.logDir = join(opts.dataDir, 'logs');
    mkdirSync(this.logDir, { recursive: true });
  }

  logFile(taskId: string): string {
    return join(this.logDir, taskLogFileName(taskId));
  }

  start(a: Assignment): void {
    if (a.command === undefined || a.command.length === 0) {
      // Reported asynchronously, like any other end, so callers see one code path.
      queueMicrotask(() => this.onEnd(a.taskId, { outcome: 'failed', reason: 'the task has no command to run (exec driver)' }));
      return;
    }
    const out = createWriteStream(this.logFile(a.taskId), { flags: 'a' });
    let child: ChildProcess;
    try {
      // Own process group, so stopping the task also stops what its shell started.
      child = spawn(a.command[0], a.command.slice(1), {
        cwd: this.opts.dataDir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: taskEnv(a),
      });
    } catch (e) {
      out.end();
      queueMicrotask(() => this.onEnd(a.taskId, { outcome: 'failed', exitCode: 127, reason: `cannot start: ${(e as Error).message}` }));
      return;
    }
    child.stdout?.pipe(out, { end: false });
    child.stderr?.pipe(out, { end: false });
    let spawnError: Error | undefined;
    child.once('error', (e) => { spawnError = e; });
    const exited = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        out.end();
        const task = this.tasks.get(a.taskId);
        this.tasks.delete(a.taskId);
        resolve();
        if (task?.stopped) return;
        const result: TaskResult = spawnError !== undefined
          ? { outcome: 'failed', exitCode: 127, reason: `cannot start ${a.command![0]}: ${spawnError.message}` }
          : execResult(code, signal);
        this.onEnd(a.taskId, result);
      });
    });
    this.tasks.set(a.taskId, { child, stopped: false, exited });
  }

  private signal(child: ChildProcess, sig: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try { child.kill(sig); } catch { /* already gone */ }
    }
  }

  stop(taskId: string): void {
    const t = this.tasks.get(taskId);
    if (t === undefined) return;
    t.stopped = true;
    this.signal(t.child, 'SIGTERM');
    const timer = setTimeout(() => this.signal(t.child, 'SIGKILL'), this.opts.killGraceMs ?? 5000);
    timer.unref();
    void t.exited.then(() => clearTimeout(timer));
  }

  async stopAll(): Promise<void> {
    const waits = [...this.tasks.entries()].map(([id, t]) => { this.stop(id); return t.exited; });
    await Promise.all(waits);
  }
}

/**
 * A task's environment: the agent's, plus TESSERA_TASK_ID / TESSERA_JOB_ID / TESSERA_NODE_ID and,
 * for a task holding GPU devices, CUDA_VISIBLE_DEVICES naming them (DESIGN §12: the agent is told
 * which devices; CUDA then numbers them 0..n-1 inside the task). A task holding none keeps the
 * agent's CUDA_VISIBLE_DEVICES, if any.
 */
export function taskEnv(a: Assignment): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_TASK_ID: a.taskId, TESSERA_JOB_ID: a.jobId, TESSERA_NODE_ID: a.nodeId };
  if (a.devices !== undefined && a.devices.length > 0) env.CUDA_VISIBLE_DEVICES = a.devices.join(',');
  return env;
}
