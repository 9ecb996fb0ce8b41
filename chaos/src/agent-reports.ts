/**
 * What the node agents say they run, from their heartbeats (every heartbeat lists each node's
 * running tasks). Pure bookkeeping: per (task, node), the intervals over which heartbeats kept
 * reporting the task; a task whose intervals on two different nodes overlap ran on both at once
 * (DESIGN §5.2: no task runs twice at the same time).
 *
 * An interval is [first report, last report]; a report more than `gapMs` after the previous one
 * starts a new interval (the task ran there again later, e.g. after the agent restarted).
 * Times are the observer's receive times, so all intervals share one clock.
 */
export interface Interval {
  first: number;
  last: number;
}

export interface ConcurrentRun {
  readonly taskId: string;
  readonly nodes: readonly [string, string];
  /** Start and end of the overlap (observer's clock, ms). */
  readonly from: number;
  readonly to: number;
}

export class AgentReports {
  /** task → node → intervals (in time order). */
  private readonly runs = new Map<string, Map<string, Interval[]>>();
  heartbeats = 0;
  reports = 0;

  constructor(private readonly gapMs: number) {}

  /** One heartbeat: each node with the tasks it runs, received at `at`. */
  record(at: number, nodes: readonly { readonly id: string; readonly tasks: readonly string[] }[]): void {
    this.heartbeats++;
    for (const n of nodes) {
      for (const taskId of n.tasks) {
        this.reports++;
        let byNode = this.runs.get(taskId);
        if (byNode === undefined) this.runs.set(taskId, (byNode = new Map()));
        let list = byNode.get(n.id);
        if (list === undefined) byNode.set(n.id, (list = []));
        const last = list[list.length - 1];
        if (last !== undefined && at - last.last <= this.gapMs) last.last = Math.max(last.last, at);
        else list.push({ first: at, last: at });
      }
    }
  }

  /** Tasks ever reported running. */
  get tasks(): number {
    return this.runs.size;
  }

  /** Tasks reported running on two nodes over a common stretch of time. */
  concurrentRuns(): ConcurrentRun[] {
    const out: ConcurrentRun[] = [];
    for (const [taskId, byNode] of this.runs) {
      if (byNode.size < 2) continue;
      const nodes = [...byNode.keys()];
      let found: ConcurrentRun | undefined;
      for (let i = 0; i < nodes.length && found === undefined; i++) {
        for (let j = i + 1; j < nodes.length && found === undefined; j++) {
          for (const a of byNode.get(nodes[i])!) {
            const b = byNode.get(nodes[j])!.find((x) => x.first <= a.last && a.first <= x.last);
            if (b !== undefined) {
              found = { taskId, nodes: [nodes[i], nodes[j]], from: Math.max(a.first, b.first), to: Math.min(a.last, b.last) };
              break;
            }
          }
        }
      }
      if (found !== undefined) out.push(found);
    }
    return out;
  }
}
