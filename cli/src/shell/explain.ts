/** `tessera explain JOB [--json]`: why a job waits (DESIGN §14), as cell-state works it out. */
import type { NatsConnection } from '@nats-io/transport-node';
import { explainReply, type ExplainReply } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { CliError } from './errors.ts';
import { explainRequestError, type CellTarget } from './target.ts';

export async function fetchExplain(nc: NatsConnection, t: CellTarget, job: string): Promise<ExplainReply> {
  try {
    return await request(nc, t.subjects.queryExplain, { job }, explainReply, { timeoutMs: 15_000 });
  } catch (e) {
    const err = explainRequestError(e, t.subjects.queryExplain);
    throw /no job/.test(err.message) ? new CliError(`no job "${job}" in cell "${t.cell}"`) : err;
  }
}

export function formatExplain(r: ExplainReply): string {
  const j = r.job;
  const counts = Object.entries(j.taskStates).map(([k, v]) => `${v} ${k}`).join(', ') || 'no tasks';
  const lines = [`job ${j.id} (tenant ${j.tenant}, queue ${j.queue}, priority ${j.priority}): ${j.state}${j.reason !== undefined ? ` — ${j.reason}` : ''}`, `  tasks: ${counts}`];
  for (const g of r.groups) {
    lines.push(`  group ${g.name}: ${g.pending} of ${g.count} pending, each needs ${Object.entries(g.resources).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    lines.push(`    ${g.summary}`);
    const never = g.refused.filter((x) => x.unresolvable);
    if (g.feasible === 0 && never.length > 0 && never.reduce((a, x) => a + x.nodes, 0) === g.nodes) lines.push('    no node can ever take it as it is: change the job (resources or constraints) or add nodes');
    else if (g.feasible === 0 && g.pending > 0) lines.push('    it waits for room: tasks ending, or nodes ready again');
  }
  lines.push(`  queue ${r.queue.name}: ${r.queue.position > 0 ? `position ${r.queue.position} of ${r.queue.waiting} waiting` : `${r.queue.waiting} jobs waiting (this one is not)`}${r.queue.quota === undefined ? '; no quota configured' : ''}`);
  if (r.conflicts.length > 0) {
    lines.push('  last refusals by the committer:');
    for (const c of r.conflicts) lines.push(`    ${new Date(c.at).toISOString().slice(11, 23)} ${c.task} on ${c.node}: ${c.reason}`);
  }
  return lines.join('\n');
}
