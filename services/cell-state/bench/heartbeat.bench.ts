/**
 * reconcileHeartbeat on a busy cell, no NATS: 10,000 nodes of one agent, `--per-node` running
 * tasks each, heartbeats of 1000 nodes (decoded afresh every round, as off the wire, untimed);
 * `--churn` of the nodes change between rounds (one task ends, one starts). Prints ms per round.
 *
 *   npx tsx services/cell-state/bench/heartbeat.bench.ts [--per-node 30] [--rounds 10] [--churn 0.1]
 */
import type { HeartbeatRequest } from '@tessera/protocol';
import { reconcileHeartbeat, isRefusal } from '../src/core/agents.ts';
import { apply, claimTxn, commitNow, model, register, spec, submit } from '../test/builders.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const nodes = arg('nodes', 10_000);
const perNode = arg('per-node', 30);
const rounds = arg('rounds', 10);
const churn = arg('churn', 0.1);
const m = model({ partitions: 32 });
const ids = Array.from({ length: nodes }, (_, i) => `n${i}`);
for (let i = 0; i < nodes; i += 1000) register(m, 'a', ...ids.slice(i, i + 1000).map((id) => ({ id, cpu: 1e9 })));
const total = nodes * (perNode + rounds + 1);
submit(m, spec('j', [{ name: 't', count: total, cpu: 1 }]));
let next = 0;
const onNode: string[][] = ids.map(() => []);
const place = (k: number[]) => {
  const claims = k.map((n) => ({ task: `j/t/${next++}`, node: ids[n], cpu: 1 }));
  commitNow(m, [claimTxn(`x${next}`, claims)], 1_000);
  apply(m, { t: 'running', agent: 'a', tasks: claims.map((c) => ({ taskId: c.task, nodeId: c.node })) });
  claims.forEach((c, i) => onNode[k[i]].push(c.task));
};
for (let r = 0; r < perNode; r++) place(ids.map((_, i) => i));
const none = { running: new Set<string>(), ended: new Set<string>() };
const times: number[] = [];
let rngState = 7;
const rnd = () => ((rngState = (rngState * 1103515245 + 12345) >>> 0) / 2 ** 32);
for (let r = 0; r < rounds; r++) {
  const changed: number[] = [];
  for (let i = 0; i < nodes; i++) if (rnd() < churn) changed.push(i);
  const ended = changed.map((i) => ({ taskId: onNode[i].shift()!, nodeId: ids[i], outcome: 'succeeded' as const }));
  if (ended.length > 0) apply(m, { t: 'ended', agent: 'a', tasks: ended });
  if (changed.length > 0) place(changed);
  const reqs: HeartbeatRequest[] = [];
  for (let i = 0; i < nodes; i += 1000) reqs.push(JSON.parse(JSON.stringify({ agent: 'a', nodes: ids.slice(i, i + 1000).map((id, k) => ({ id, tasks: onNode[i + k] })) })) as HeartbeatRequest);
  const t0 = performance.now();
  for (const req of reqs) {
    const d = reconcileHeartbeat(m, req, 100_000 + r, 1_000, none);
    if (isRefusal(d) || d.stopTasks.length > 0 || d.missing.length > 0) throw new Error('unexpected reconciliation');
  }
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ nodes, perNode, churn, rounds, msPerRoundMedian: Number(times[times.length >> 1].toFixed(1)), msPerRoundMin: Number(times[0].toFixed(1)) }));
