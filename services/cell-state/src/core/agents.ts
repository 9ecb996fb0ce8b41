/**
 * Pure decisions on what node agents say: registrations, heartbeats, task ends. An agent may only
 * speak for its own nodes (DESIGN §5.7); everything here is a function of the model and the
 * message, with the time passed in.
 */
import { isResourceError, type Allocation } from '@tessera/core';
import type { Assignment, HeartbeatRequest, RegisterRequest, TaskEndedRequest } from '@tessera/protocol';
import { mayRegister, type CellModel } from './model.ts';
import type { EndedRecord, RegisterRecord, RunningRecord } from './log-records.ts';

/** A request refused as a whole, with the typed error code and the offending path. */
export interface Refusal {
  readonly refused: true;
  readonly code: 'invalid' | 'forbidden';
  readonly message: string;
  readonly path?: string;
}

export function isRefusal(x: object): x is Refusal {
  return (x as { refused?: unknown }).refused === true;
}

/** Validates a registration (capacities against the ResourceSpace, ownership) into its log record. */
export function registrationRecord(model: CellModel, req: RegisterRequest): RegisterRecord | Refusal {
  const nodes: RegisterRecord['nodes'] = [];
  for (let i = 0; i < req.nodes.length; i++) {
    const n = req.nodes[i];
    const v = model.space.parse(n.capacity, `nodes[${i}].capacity`);
    if (isResourceError(v)) return { refused: true, code: 'invalid', message: v.message, path: v.path };
    if (!mayRegister(model, req.agent, n.id)) {
      return { refused: true, code: 'forbidden', message: `node ${n.id} belongs to agent ${model.owners.get(n.id)} and is not lost`, path: `nodes[${i}].id` };
    }
    nodes.push({ id: n.id, labels: n.labels, capacity: Array.from(v) });
  }
  return { t: 'register', agent: req.agent, nodes };
}

/** The first node of the list that another agent owns, as a refusal; undefined when all are fine. */
export function ownershipRefusal(model: CellModel, agent: string, nodeIds: readonly string[], field: string): Refusal | undefined {
  for (let i = 0; i < nodeIds.length; i++) {
    const owner = model.owners.get(nodeIds[i]);
    if (owner !== undefined && owner !== agent) {
      return { refused: true, code: 'forbidden', message: `node ${nodeIds[i]} belongs to agent ${owner}, not ${agent}`, path: field.replace('#', String(i)) };
    }
  }
  return undefined;
}

/** What a heartbeat answers and changes. */
export interface HeartbeatDecision {
  readonly unknownNodes: string[];
  readonly stopTasks: string[];
  /** Allocations to send again (their assignment is rebuilt by the shell from the job table). */
  readonly missing: Allocation[];
  /** Nodes heard from (liveness refreshed). */
  readonly heard: string[];
  /** Tasks reported for the first time while placed: to log as running (undefined when none). */
  readonly running: RunningRecord | undefined;
}

/** Records on their way to the log that a heartbeat must not contradict. */
export interface InFlight {
  /** Tasks whose `running` record is being appended (not logged twice). */
  readonly running: ReadonlySet<string>;
  /**
   * Tasks whose `ended` record is being appended: the agent no longer reports them, but they are
   * not missing (sending them again would run a finished task a second time).
   */
  readonly ended: ReadonlySet<string>;
}

/**
 * A node whose last full reconciliation found nothing to do: the agent reported exactly the
 * node's allocations (this list), none placed-but-not-yet-running, at this node version.
 */
interface CleanNode {
  readonly version: number;
  readonly tasks: readonly string[];
}

/**
 * Clean nodes per model (a memo, not state: dropping it only costs a full reconciliation).
 * Keyed by the model's cell and job table, so a model rebuilt from a snapshot starts afresh.
 */
const cleanNodes = new WeakMap<object, { readonly jobs: object; readonly nodes: Map<string, CleanNode> }>();

function cleanNodesOf(model: CellModel): Map<string, CleanNode> {
  let memo = cleanNodes.get(model.cell);
  if (memo === undefined || memo.jobs !== model.jobs) cleanNodes.set(model.cell, (memo = { jobs: model.jobs, nodes: new Map() }));
  return memo.nodes;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Reconciles what an agent runs with what the cell expects.
 *
 * Every reported task is probed against the node's allocations, except on a node that was clean
 * at its previous heartbeat (see {@link CleanNode}) and reports the same list again while its
 * version did not move: every allocation change (commit, release) and condition change bumps the
 * node version, and a task only leaves `placed` for `running`/ended, so the full reconciliation
 * would again find nothing to stop, re-send or log. Such a node costs one list comparison.
 */
export function reconcileHeartbeat(
  model: CellModel,
  req: HeartbeatRequest,
  now: number,
  graceMs: number,
  inFlight: InFlight,
): HeartbeatDecision | Refusal {
  const refusal = ownershipRefusal(model, req.agent, req.nodes.map((n) => n.id), 'nodes[#].id');
  if (refusal !== undefined) return refusal;
  const clean = cleanNodesOf(model);
  const unknownNodes: string[] = [];
  const stopTasks: string[] = [];
  const missing: Allocation[] = [];
  const heard: string[] = [];
  const running: RunningRecord['tasks'] = [];
  for (const reported of req.nodes) {
    const node = model.cell.node(reported.id);
    if (node === undefined || node.condition === 'lost' || model.owners.get(reported.id) !== req.agent) {
      // Unknown (e.g. the cell was reset) or lost: the agent registers it again; nothing runs there.
      unknownNodes.push(reported.id);
      for (const t of reported.tasks) stopTasks.push(t);
      clean.delete(reported.id);
      continue;
    }
    heard.push(reported.id);
    const before = clean.get(reported.id);
    if (before !== undefined && before.version === node.version && sameList(before.tasks, reported.tasks)) continue;
    const seen = reported.tasks.length > 0 ? new Set<string>() : undefined;
    let isClean = true;
    let matched = 0; // distinct reported tasks allocated on the node
    for (const taskId of reported.tasks) {
      const first = !seen!.has(taskId);
      if (first) seen!.add(taskId);
      const a = node.allocations.get(taskId);
      if (a === undefined) {
        stopTasks.push(taskId);
        isClean = false;
        continue;
      }
      if (first) matched++;
      if (!inFlight.running.has(taskId)) {
        const t = model.jobs.task(taskId);
        if (t === undefined) isClean = false;
        else if (t.job.taskState[t.slot] === 1 /* placed */) {
          running.push({ taskId, nodeId: reported.id });
          isClean = false;
        }
      } else isClean = false;
    }
    if (matched !== node.allocations.size) {
      // Some allocation was not reported (otherwise none can be missing).
      isClean = false;
      for (const a of node.allocations.values()) {
        if (seen?.has(a.taskId) || inFlight.ended.has(a.taskId)) continue;
        const since = model.assignedAt.get(a.taskId) ?? -Infinity;
        if (now - since >= graceMs) missing.push(a);
      }
    }
    if (isClean) clean.set(reported.id, { version: node.version, tasks: reported.tasks });
    else clean.delete(reported.id);
  }
  return {
    unknownNodes, stopTasks, missing, heard,
    running: running.length > 0 ? { t: 'running', agent: req.agent, tasks: running } : undefined,
  };
}

/** The log record of a task-ended report (ownership already checked by the caller). */
export function taskEndedRecord(req: TaskEndedRequest): EndedRecord {
  return {
    t: 'ended',
    agent: req.agent,
    tasks: req.tasks.map((t) => (t.reason === undefined
      ? { taskId: t.taskId, nodeId: t.nodeId, outcome: t.outcome }
      : { taskId: t.taskId, nodeId: t.nodeId, outcome: t.outcome, reason: t.reason })),
  };
}

/**
 * The assignment sent to an agent for an allocation, with the task's duration/command from the
 * job table; undefined while the job is not known yet (the shell sends it once the job arrives).
 */
export function assignmentOf(model: CellModel, a: Allocation): Assignment | undefined {
  const t = model.jobs.task(a.taskId);
  if (t === undefined) return undefined;
  const out: Assignment = { taskId: a.taskId, jobId: a.jobId, nodeId: a.nodeId, resources: model.space.record(a.demand) };
  if (a.devices !== undefined && a.devices.length > 0) out.devices = [...a.devices];
  if (t.group.durationS !== undefined) out.durationS = t.group.durationS;
  if (t.group.command !== undefined) out.command = [...t.group.command];
  return out;
}

/** Groups allocations by the agent owning their node (allocations of unowned nodes are dropped). */
export function byAgent<T extends { readonly nodeId: string }>(model: CellModel, items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const agent = model.owners.get(it.nodeId);
    if (agent === undefined) continue;
    let list = out.get(agent);
    if (list === undefined) out.set(agent, (list = []));
    list.push(it);
  }
  return out;
}

/** Nodes not heard from within `timeoutMs` (and not already lost). */
export function findLostNodes(model: CellModel, lastHeard: ReadonlyMap<string, number>, now: number, timeoutMs: number): string[] {
  const out: string[] = [];
  for (const n of model.cell.nodes) {
    if (n.condition === 'lost') continue;
    const heard = lastHeard.get(n.id);
    if (heard === undefined || now - heard > timeoutMs) out.push(n.id);
  }
  return out;
}
