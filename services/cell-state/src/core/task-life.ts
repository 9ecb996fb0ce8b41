/**
 * What happened to a job's tasks beyond their state (DESIGN §11): restarts after a failure,
 * evictions by preemption, the last failure of each. Most jobs never need any of it, so a job's
 * TaskLife is created on first use; like the rest of the job table it changes only when records
 * are applied, so replay and snapshots rebuild it.
 */
import type { JobListing } from '@tessera/protocol';

export interface TaskLife {
  /** Per task slot: restarts used (after a failure or a lost node). */
  readonly restarts: Uint32Array;
  /** Per task slot: times it was evicted by preemption. */
  readonly preemptions: Uint32Array;
  /** Task slot → its last failure (process exit, lost node). */
  readonly lastFailure: Map<number, string>;
  /** Slots pending because they were preempted (listed with reason `preempted` until placed again). */
  readonly preempted: Set<number>;
}

/** The reason a preempted task (and its job, while it waits) is listed with. */
export const PREEMPTED = 'preempted';

/** The job's TaskLife, created empty on first use. */
export function lifeOf(job: { life?: TaskLife; readonly taskState: Uint8Array }): TaskLife {
  return (job.life ??= {
    restarts: new Uint32Array(job.taskState.length),
    preemptions: new Uint32Array(job.taskState.length),
    lastFailure: new Map(),
    preempted: new Set(),
  });
}

/** Adds the non-zero counters and reasons to a window of a job's task listing (`tasks[0]` is slot `from`). */
export function listTaskLife(life: TaskLife, tasks: JobListing['tasks'], from: number): void {
  for (let k = 0; k < tasks.length; k++) {
    const slot = from + k;
    const r = life.restarts[slot];
    const p = life.preemptions[slot];
    const f = life.lastFailure.get(slot);
    if (r === 0 && p === 0 && f === undefined) continue;
    const t = tasks[k];
    if (r > 0) t.restarts = r;
    if (p > 0) t.preemptions = p;
    if (f !== undefined) t.lastFailure = f;
    if (life.preempted.has(slot)) t.reason = PREEMPTED;
  }
}

/** A TaskLife as plain data for snapshots: [restarts, preemptions, lastFailure pairs, preempted slots]. */
export type SavedTaskLife = [Uint8Array, Uint8Array, [number, string][], number[]];

export function saveTaskLife(life: TaskLife): SavedTaskLife {
  const bytes = (a: Uint32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  return [bytes(life.restarts), bytes(life.preemptions), [...life.lastFailure], [...life.preempted]];
}

/** Throws a RangeError on inconsistent data. */
export function loadTaskLife(saved: SavedTaskLife, tasks: number, what: string): TaskLife {
  const counters = (b: Uint8Array) => {
    if (b.length !== tasks * 4) throw new RangeError(`${what}: task counters of ${b.length} bytes for ${tasks} tasks`);
    return new Uint32Array(Uint8Array.from(b).buffer);
  };
  const slot = (s: number) => {
    if (!Number.isInteger(s) || s < 0 || s >= tasks) throw new RangeError(`${what}: task slot ${s} out of range`);
    return s;
  };
  return {
    restarts: counters(saved[0]),
    preemptions: counters(saved[1]),
    lastFailure: new Map(saved[2].map(([s, f]) => [slot(s), f])),
    preempted: new Set(saved[3].map(slot)),
  };
}
