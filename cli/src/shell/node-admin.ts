/**
 * `tessera cordon|uncordon NODE…` and `tessera drain NODE… [--deadline S] [--no-wait]` (DESIGN
 * §12): one request to cell-state, which writes the change to the commit log. `drain` then waits
 * until every node named is `drained` (its tasks re-placed elsewhere), printing progress.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { nodeAdminReply, nodesListingReply, type NodeAdminOp, type NodeAdminReply } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { CliError } from './errors.ts';
import { explainRequestError, type CellTarget } from './target.ts';

export async function changeNodes(nc: NatsConnection, t: CellTarget, op: NodeAdminOp, nodes: readonly string[], deadlineS?: number): Promise<NodeAdminReply> {
  let r: NodeAdminReply;
  try {
    r = await request(nc, t.subjects.nodeAdmin, { op, nodes: [...nodes], deadlineS }, nodeAdminReply, { timeoutMs: 15_000 });
  } catch (e) {
    throw explainRequestError(e, t.subjects.nodeAdmin);
  }
  if (r.unknown.length > 0 && r.nodes.length === 0) throw new CliError(`no such node${r.unknown.length > 1 ? 's' : ''}: ${r.unknown.join(', ')}`);
  return r;
}

/** Polls the nodes until all are drained (or no longer draining: uncordoned or lost meanwhile). */
export async function waitDrained(nc: NatsConnection, t: CellTarget, nodes: readonly string[], timeoutMs: number, progress: (s: string) => void): Promise<{ id: string; state: string; tasks: number }[]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await request(nc, t.subjects.queryNodes, { offset: 0, limit: nodes.length, ids: [...nodes] }, nodesListingReply, { timeoutMs: 10_000 }).catch((e) => { throw explainRequestError(e, t.subjects.queryNodes); });
    const states = r.items.map((n) => ({ id: n.id, state: n.state, tasks: Object.values(n.allocated).some((v) => v > 0) ? 1 : 0 }));
    const waiting = states.filter((s) => s.state === 'draining');
    const line = `${states.length - waiting.length}/${states.length} drained`;
    if (line !== last) { progress(line); last = line; }
    if (waiting.length === 0) return states;
    if (Date.now() > deadline) throw new CliError(`still draining after ${Math.round(timeoutMs / 1000)} s: ${waiting.map((s) => s.id).join(', ')}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

export function describeChange(op: NodeAdminOp, r: NodeAdminReply): string {
  const lines = r.nodes.map((n) => `${n.id}: ${n.state}${n.tasks > 0 ? ` (${n.tasks} task${n.tasks === 1 ? '' : 's'} on it)` : ''}`);
  if (r.unknown.length > 0) lines.push(`unknown (nothing done): ${r.unknown.join(', ')}`);
  return [`${op}: ${r.nodes.length} node${r.nodes.length === 1 ? '' : 's'}`, ...lines].join('\n');
}
