/**
 * The committer's last refusals per job, for `tessera explain`: bounded (a few per job, a few
 * thousand jobs, oldest job forgotten first), leader memory only (not logged: it explains, it
 * decides nothing).
 */
import type { TxnResult } from '@tessera/core';
import { parseTaskId } from './job-table.ts';

export interface RememberedConflict {
  readonly at: number;
  readonly task: string;
  readonly node: string;
  readonly reason: string;
}

export class ConflictMemory {
  private readonly byJob = new Map<string, RememberedConflict[]>();

  constructor(private readonly perJob = 10, private readonly jobs = 5_000) {}

  record(results: readonly TxnResult[], at: number): void {
    for (const r of results) {
      for (const x of r.rejected) {
        const jobId = parseTaskId(x.taskId)?.jobId;
        if (jobId === undefined) continue;
        let list = this.byJob.get(jobId);
        if (list === undefined) {
          if (this.byJob.size >= this.jobs) this.byJob.delete(this.byJob.keys().next().value as string);
          this.byJob.set(jobId, (list = []));
        }
        list.push({ at, task: x.taskId, node: x.nodeId, reason: x.reason });
        if (list.length > this.perJob) list.shift();
      }
    }
  }

  /** Newest first. */
  of(jobId: string): RememberedConflict[] {
    return [...(this.byJob.get(jobId) ?? [])].reverse();
  }
}
