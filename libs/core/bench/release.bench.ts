/**
 * CellState.release cost: 200 nodes × `--tasks` whole-number allocations each, then every task
 * released one by one (as task ends do), then the same with releaseNode. Prints ms per phase.
 *
 *   npx tsx libs/core/bench/release.bench.ts [--tasks 500]
 */
import { CellState, ResourceSpace, type Claim } from '../src/index.ts';

const at = process.argv.indexOf('--tasks');
const perNode = at >= 0 ? Number(process.argv[at + 1]) : 500;
const nodes = 200;
const space = ResourceSpace.default;
const vec = (cpu: number, mem: number) => Float64Array.from([cpu, mem, 0, 0]);
function fill(): CellState {
  const cell = new CellState(space, 8);
  for (let i = 0; i < nodes; i++) cell.upsertNode({ id: `n${i}`, labels: {}, capacity: vec(1e9, 1e9) });
  const claims: Claim[] = [];
  for (let t = 0; t < perNode; t++) {
    for (let i = 0; i < nodes; i++) claims.push({ taskId: `t${i}/${t}`, jobId: 'j', nodeId: `n${i}`, demand: vec(100 + (t % 7), 256), seenVersion: 0 });
  }
  cell.applyClaims(claims, 1);
  return cell;
}
let cell = fill();
let t0 = performance.now();
for (let t = 0; t < perNode; t++) for (let i = 0; i < nodes; i++) cell.release(`t${i}/${t}`);
const releaseMs = performance.now() - t0;
cell = fill();
t0 = performance.now();
for (let i = 0; i < nodes; i++) cell.releaseNode(`n${i}`);
const releaseNodeMs = performance.now() - t0;
console.log(JSON.stringify({ nodes, perNode, releases: nodes * perNode, releaseMs: Math.round(releaseMs), releaseNodeMs: Math.round(releaseNodeMs) }));
