/** Heartbeat requests and what to do with their replies; pure. */
import type { Assignment, HeartbeatReply, HeartbeatRequest, TaskEndedRequest } from '@tessera/protocol';
import type { TaskBook, TaskEnd } from './task-book.ts';

/** At most this many nodes (register, heartbeat) or task ends per request. */
export const MAX_BATCH = 1000;
/**
 * A heartbeat batch is also closed once it carries this many task ids, so a busy agent's
 * heartbeats stay small requests (a few hundred KB) that the cell reconciles quickly.
 */
export const MAX_HEARTBEAT_TASKS = 10_000;

export function heartbeatBatches(agent: string, nodeIds: readonly string[], book: TaskBook, batchSize = MAX_BATCH, maxTasks = MAX_HEARTBEAT_TASKS): HeartbeatRequest[] {
  const size = Math.min(batchSize, MAX_BATCH);
  const out: HeartbeatRequest[] = [];
  let nodes: HeartbeatRequest['nodes'] = [];
  let tasks = 0;
  for (const id of nodeIds) {
    const t = book.tasksOn(id);
    if (nodes.length > 0 && (nodes.length >= size || tasks + t.length > maxTasks)) {
      out.push({ agent, nodes });
      nodes = [];
      tasks = 0;
    }
    nodes.push({ id, tasks: t });
    tasks += t.length;
  }
  if (nodes.length > 0) out.push({ agent, nodes });
  return out;
}

export interface HeartbeatPlan {
  /** Own nodes the cell does not know: register them again. */
  readonly reRegister: string[];
  /** Running tasks the cell holds no allocation for: stop them. */
  readonly stop: string[];
  /** Assignments the cell expects running: run them (admission still applies). */
  readonly run: Assignment[];
}

/** Filters a reply to what concerns this agent (the cell could name foreign nodes or ended tasks). */
export function planHeartbeatReply(reply: HeartbeatReply, isOwnNode: (id: string) => boolean, book: TaskBook): HeartbeatPlan {
  const reRegister = [...new Set(reply.unknownNodes.filter(isOwnNode))];
  const stop = [...new Set(reply.stopTasks.filter((t) => book.get(t) !== undefined))];
  const seen = new Set<string>();
  const run: Assignment[] = [];
  for (const a of reply.missing) {
    if (seen.has(a.taskId)) continue;
    seen.add(a.taskId);
    run.push(a);
  }
  return { reRegister, stop, run };
}

export function taskEndedRequest(agent: string, ends: readonly TaskEnd[]): TaskEndedRequest {
  return {
    agent,
    tasks: ends.map((e) => {
      const t: TaskEndedRequest['tasks'][number] = { taskId: e.taskId, nodeId: e.nodeId, outcome: e.outcome };
      if (e.exitCode !== undefined) t.exitCode = e.exitCode;
      if (e.reason !== undefined) t.reason = e.reason.slice(0, 2000);
      return t;
    }),
  };
}
