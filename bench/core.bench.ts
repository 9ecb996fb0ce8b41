/**
 * Hot-path micro-benchmark of the pure core (`npm run bench:core [-- --json] [-- --seconds S]`).
 *
 * Measures, on one core, on a 10,000-node cell loaded to ~60%:
 *   (a) claim validations/s with `validateTxn` (10-claim transactions, fine and coarse), and fine
 *       with the quota check on (claims of 4 queues with a max: what a cell with a queue file pays),
 *   (b) placement decisions/s on a 10,000-node SchedulerView (latency-first / quality-first,
 *       binpack, sampleSize 16; plus placeJob with view bookings, and an exhaustive reference),
 *   (c) partition delta applications/s (`CellState.sync` + `SchedulerView.applySync`).
 * It measures and prints; it asserts nothing. Same seed every run, so runs are comparable.
 */
import {
  CellState,
  Committer,
  DEFAULT_CLAIM_CHECKS,
  parseQueueFile,
  quotaCheck,
  withCheck,
  ResourceSpace,
  SchedulerView,
  validateTxn,
  type Claim,
  type Granularity,
  type PartitionSync,
  type TaskRequest,
  type Transaction,
} from '@tessera/core';
import { produce } from 'immer';
import { createRng, placeJob, placeTask, type EffectiveMode, type PlaceOptions, type Rng } from '@tessera/policy';

const args = process.argv.slice(2);
const JSON_OUT = args.includes('--json');
const secondsArg = args.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 1;
if (!(SECONDS > 0)) {
  console.error('bench:core: --seconds needs a number > 0');
  process.exit(2);
}

const NODES = 10_000;
const PARTITIONS = 100;
const CLAIMS_PER_TXN = 10;
const SAMPLE = 16;
const space = ResourceSpace.default;
const ZONES = ['a', 'b', 'c', 'd'];

interface Row {
  readonly name: string;
  readonly unit: string;
  readonly perSecond: number;
  readonly ops: number;
  readonly seconds: number;
  readonly note?: string;
}

/**
 * Runs `batch` (which performs `opsPerBatch` operations and returns how many it did) until
 * `seconds` elapsed, after a short warm-up so the JIT has settled. Returns ops/s.
 */
function measure(name: string, unit: string, batch: () => number, note?: string): Row {
  const warmEnd = performance.now() + Math.min(300, SECONDS * 300);
  while (performance.now() < warmEnd) batch();
  let ops = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let now = start;
  while (now < end) {
    ops += batch();
    now = performance.now();
  }
  const seconds = (now - start) / 1000;
  return { name, unit, perSecond: ops / seconds, ops, seconds, ...(note === undefined ? {} : { note }) };
}

// ---------------------------------------------------------------- the cell
function buildCell(rng: Rng): CellState {
  const cell = new CellState(space, PARTITIONS);
  for (let i = 0; i < NODES; i++) {
    const gpu = i % 10 === 0 ? 8 : 0;
    cell.upsertNode({
      id: `node-${i.toString().padStart(5, '0')}`,
      labels: gpu > 0 ? { zone: ZONES[i % 4], gpu_model: 'a100' } : { zone: ZONES[i % 4] },
      capacity: space.vector({ cpu_millis: 32_000 + 16_000 * rng.int(4), mem_mib: 131_072 * (1 + rng.int(3)), gpu }),
    });
  }
  // Load every node to a random 20–95% of its cpu and memory with a few committed tasks each.
  let t = 0;
  const claims: Claim[] = [];
  for (const n of cell.nodes) {
    const target = 0.2 + 0.75 * rng.next();
    const parts = 1 + rng.int(4);
    for (let k = 0; k < parts; k++) {
      const demand = space.vector({
        cpu_millis: Math.floor((n.capacity[0] * target) / parts),
        mem_mib: Math.floor((n.capacity[1] * target * (0.5 + rng.next() / 2)) / parts),
      });
      claims.push({ taskId: `seed/${t++}`, jobId: 'seed', nodeId: n.id, demand, seenVersion: 0 });
    }
  }
  cell.applyClaims(claims, 1);
  return cell;
}

function buildView(cell: CellState, now: number): SchedulerView {
  const view = new SchedulerView(space, PARTITIONS);
  // Staggered sync times, as a ParSync scheduler's view has them: partition p synced p·10 ms ago.
  for (const s of cell.snapshotAll()) view.applySync(s, now - 10 * (PARTITIONS - s.partition));
  return view;
}

// ---------------------------------------------------------------- (a) validateTxn
const QUEUES = ['prod.web', 'prod.api', 'batch', 'research'];

/** Four queues under two parents, each with a max well above what the bench claims (so none refuses). */
function benchQueueTree() {
  const r = parseQueueFile({ queues: [
    { name: 'prod', max: { cpu_millis: 1e12 }, queues: [{ name: 'web', max: { cpu_millis: 1e12 } }, { name: 'api' }] },
    { name: 'batch', max: { cpu_millis: 1e12, mem_mib: 1e12 } },
    { name: 'research', max: { cpu_millis: 1e12 } },
  ] }, space);
  if (!r.ok) throw new Error(`bench queue file: ${r.error.path}: ${r.error.message}`);
  return r.tree;
}

function benchTxns(cell: CellState, rng: Rng, withQueues: boolean): Transaction[] {
  const nodes = cell.nodes;
  const txns: Transaction[] = [];
  for (let i = 0; i < 1000; i++) {
    const claims: Claim[] = [];
    for (let k = 0; k < CLAIMS_PER_TXN; k++) {
      const n = nodes[rng.int(nodes.length)];
      claims.push({
        taskId: `bench/${i}/${k}`,
        jobId: `bench/${i}`,
        nodeId: n.id,
        demand: space.vector({ cpu_millis: 100 + rng.int(900), mem_mib: 128 * (1 + rng.int(8)) }),
        // Every third claim decided on an older version: coarse rejects it, fine checks the fit.
        seenVersion: k % 3 === 0 ? Math.max(0, n.version - 1) : n.version,
        ...(k % 4 === 0 ? { constraints: [{ label: 'zone', op: 'exists' as const }] } : {}),
        ...(withQueues ? { queue: QUEUES[k % QUEUES.length] } : {}),
      });
    }
    txns.push({ id: `txn-${i}`, schedulerId: 'bench', kind: i % 5 === 0 ? 'all-or-nothing' : 'incremental', claims });
  }
  return txns;
}

let sink = 0;

/** 100 validations of `txns` from `*at`, round robin; returns the claims validated. */
function validateBatch(cell: CellState, txns: readonly Transaction[], granularity: Granularity, checks: typeof DEFAULT_CLAIM_CHECKS, at: { i: number }): number {
  for (let b = 0; b < 100; b++) {
    sink += validateTxn(cell, txns[at.i], granularity, { checks }).accepted.length;
    at.i = at.i + 1 === txns.length ? 0 : at.i + 1;
  }
  return 100 * CLAIMS_PER_TXN;
}

function benchValidate(cell: CellState, rng: Rng, granularity: Granularity): Row {
  const txns = benchTxns(cell, rng, false);
  const at = { i: 0 };
  return measure(`validateTxn ${granularity}`, 'claims/s', () => validateBatch(cell, txns, granularity, DEFAULT_CLAIM_CHECKS, at), `${CLAIMS_PER_TXN}-claim txns on ${NODES} nodes`);
}

/**
 * Runs `off` and `on` (each does some operations and returns how many) in alternating 100 ms
 * slices (this machine's speed drifts by ±30% between seconds; alternating puts both under the
 * same drift) and returns the medians of their rates.
 */
function alternate(off: () => number, on: () => number): { off: number; on: number; slices: number } {
  const slices = Math.max(4, Math.round(SECONDS * 10));
  const slice = (f: () => number): number => {
    const start = performance.now();
    let ops = 0;
    while (performance.now() - start < 100) ops += f();
    return ops / ((performance.now() - start) / 1000);
  };
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 0; k < 3; k++) { slice(off); slice(on); } // warm-up
  for (let k = 0; k < slices; k++) {
    if (k % 2 === 0) { a.push(slice(off)); b.push(slice(on)); } else { b.push(slice(on)); a.push(slice(off)); }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  return { off: median(a), on: median(b), slices };
}

function quotaRows(what: string, r: { off: number; on: number; slices: number }): Row[] {
  const seconds = r.slices * 0.1;
  return [
    { name: `${what}, queued claims, quota off`, unit: 'claims/s', perSecond: r.off, ops: Math.round(r.off * seconds), seconds, note: `median of ${r.slices} slices of 100 ms` },
    { name: `${what}, queued claims, quota on`, unit: 'claims/s', perSecond: r.on, ops: Math.round(r.on * seconds), seconds, note: `${((1 - r.on / r.off) * 100).toFixed(1)}% slower (4 queues with a max, alternated with the row above)` },
  ];
}

/**
 * What the quota check costs the committer, on the same transactions (claims of 4 queues): the
 * validation alone, and the whole commit (validate, book the accepted claims with their queue
 * usage, then release them again so the cell stays as it was).
 */
function benchQuotaCost(cell: CellState, rng: Rng): Row[] {
  const tree = benchQueueTree();
  const withQuota = withCheck(DEFAULT_CLAIM_CHECKS, quotaCheck(() => tree));
  const txns = benchTxns(cell, rng, true);
  const at = { i: 0 };
  const validation = alternate(() => validateBatch(cell, txns, 'fine', DEFAULT_CLAIM_CHECKS, at), () => validateBatch(cell, txns, 'fine', withQuota, at));
  const plain = new Committer(cell, { granularity: 'fine', dedupLimit: 16 });
  const quota = new Committer(cell, { granularity: 'fine', dedupLimit: 16, checks: withQuota });
  let seq = 0;
  const commitBatch = (committer: Committer) => (): number => {
    for (let b = 0; b < 100; b++) {
      const txn = txns[at.i];
      at.i = at.i + 1 === txns.length ? 0 : at.i + 1;
      const r = committer.commit({ ...txn, id: `${txn.id}-${++seq}` }, seq);
      for (const id of r.committed) cell.release(id);
    }
    return 100 * CLAIMS_PER_TXN;
  };
  const commits = alternate(commitBatch(plain), commitBatch(quota));
  return [...quotaRows('validateTxn fine', validation), ...quotaRows('commit (validate + book + release)', commits)];
}

// ---------------------------------------------------------------- (b) placement
function taskShapes(): TaskRequest[] {
  const mk = (i: number, r: Record<string, number>, extra: Partial<TaskRequest> = {}): TaskRequest => ({
    id: `bench/g/${i}`, jobId: 'bench', group: 'g', index: i, demand: space.vector(r), priority: 100, ...extra,
  });
  return [
    mk(0, { cpu_millis: 500, mem_mib: 1024 }),
    mk(1, { cpu_millis: 2000, mem_mib: 4096 }),
    mk(2, { cpu_millis: 250, mem_mib: 512 }, { constraints: [{ label: 'zone', op: 'in', values: ['a', 'b'] }] }),
    mk(3, { cpu_millis: 4000, mem_mib: 16_384 }),
    mk(4, { cpu_millis: 1000, mem_mib: 2048 }, { preferences: [{ label: 'zone', op: 'in', values: ['c'], weight: 50 }] }),
    mk(5, { cpu_millis: 1000, mem_mib: 8192, gpu: 1 }, { constraints: [{ label: 'gpu_model', op: 'exists' }] }),
  ];
}

function benchPlaceTask(view: SchedulerView, now: number, mode: EffectiveMode, sampleSize: number): Row {
  const tasks = taskShapes();
  const opts: PlaceOptions = { mode, scorer: 'binpack', sampleSize, now, rng: createRng(`bench-${mode}`) };
  let i = 0;
  let placed = 0;
  let tried = 0;
  const batchSize = sampleSize === 0 ? 10 : 1000;
  const row = measure(`placeTask ${mode} s=${sampleSize}`, 'decisions/s', () => {
    for (let b = 0; b < batchSize; b++) {
      if (placeTask(view, tasks[i], opts).ok) placed++;
      i = i + 1 === tasks.length ? 0 : i + 1;
    }
    tried += batchSize;
    return batchSize;
  }, sampleSize === 0 ? 'exhaustive reference' : 'binpack, no booking');
  return { ...row, note: `${row.note}; ${((100 * placed) / tried).toFixed(0)}% placed` };
}

function benchPlaceJob(view: SchedulerView, now: number, mode: EffectiveMode): Row {
  const shapes = taskShapes();
  const job = Array.from({ length: 10 }, (_, i) => ({ ...shapes[i % shapes.length], id: `bench/g/${i}`, index: i }));
  const opts: PlaceOptions = { mode, scorer: 'binpack', sampleSize: SAMPLE, now, rng: createRng(`job-${mode}`) };
  return measure(`placeJob ${mode} s=${SAMPLE}`, 'decisions/s', () => {
    let n = 0;
    for (let b = 0; b < 100; b++) {
      const r = placeJob(view, job, opts);
      // Answer at once (as a committer reply would) so the view does not fill up with bookings.
      for (const c of r.claims) view.forget(c.nodeId, c.demand, c.devices);
      n += job.length;
    }
    return n;
  }, '10-task jobs, assume + claims + forget');
}

// ---------------------------------------------------------------- (c) partition deltas
function benchDeltas(cell: CellState, view: SchedulerView, rng: Rng, changesPerDelta: number): Row {
  let clock = 1_000_000;
  let t = 0;
  let round = 0;
  const live: string[] = [];
  let liveHead = 0; // live[liveHead..] are still placed (a queue without O(n) shifts)
  let nodeUpdates = 0;
  let syncMs = 0;
  let deltas = 0;
  const demand = space.vector({ cpu_millis: 100, mem_mib: 128 });
  const run = (): number => {
    for (let b = 0; b < 20; b++) {
      const p = round++ % PARTITIONS;
      const nodes = cell.partitionNodes(p);
      // Mutate the cell (not timed): commit some tasks on this partition, release older ones.
      const claims: Claim[] = [];
      for (let k = 0; k < changesPerDelta; k++) {
        const n = nodes[rng.int(nodes.length)];
        const id = `delta${changesPerDelta}/${t++}`;
        claims.push({ taskId: id, jobId: 'delta', nodeId: n.id, demand, seenVersion: n.version });
        live.push(id);
      }
      cell.applyClaims(claims, round);
      while (live.length - liveHead > 4 * changesPerDelta * PARTITIONS) cell.release(live[liveHead++]);
      if (liveHead > 100_000) {
        live.splice(0, liveHead);
        liveHead = 0;
      }
      // Timed: what a scheduler does per sync round.
      const s0 = performance.now();
      const sync = cell.sync(p, view.partitions[p].version);
      view.applySync(sync, clock++);
      syncMs += performance.now() - s0;
      nodeUpdates += sync.nodes.length;
      deltas++;
    }
    return 20;
  };
  // measure() times the mutations too; report the sync+apply time alone from syncMs.
  measure('warm', '', run);
  nodeUpdates = 0;
  syncMs = 0;
  deltas = 0;
  const outer = measure('deltas', '', run);
  return {
    name: `sync+applySync ~${changesPerDelta} changes`,
    unit: 'deltas/s',
    perSecond: deltas / (syncMs / 1000),
    ops: deltas,
    seconds: syncMs / 1000,
    note: `${(nodeUpdates / deltas).toFixed(1)} nodes/delta, ${(nodeUpdates / (syncMs / 1000) / 1e6).toFixed(2)}M node updates/s; cell mutation excluded (${outer.perSecond.toFixed(0)} rounds/s with it)`,
  };
}


// ------------------------------------------------- (d) the same deltas through immer (DESIGN §8)
/**
 * DESIGN §8 suggests immer where readers must not see a half-applied state. A scheduler applies
 * a sync between two placements on one event loop, so no reader can see it half-applied; this row
 * measures what immer's copy-on-write would cost on the same deltas, to justify plain structures.
 */
function benchImmerDeltas(cell: CellState, rng: Rng, changesPerDelta: number): Row[] {
  type PlainNode = { version: number; allocated: Float64Array; condition: string };
  type PlainView = { partitions: { version: number; syncedAt: number; nodes: Record<string, PlainNode> }[] };
  // Both views start from the same state; the deltas are generated afterwards and applied once each, in order.
  const view = buildView(cell, 1_000_000);
  let state: PlainView = { partitions: Array.from({ length: PARTITIONS }, (_, p) => ({ version: cell.partitionVersion(p), syncedAt: 0, nodes: Object.fromEntries(cell.partitionNodes(p).map((n) => [n.id, { version: n.version, allocated: Float64Array.from(n.allocated), condition: n.condition }])) })) };
  const syncs: PartitionSync[] = [];
  const versions = Array.from({ length: PARTITIONS }, (_, p) => cell.partitionVersion(p));
  const demand = space.vector({ cpu_millis: 10, mem_mib: 16 });
  const rounds = Math.max(2_000, Math.round(SECONDS * 5_000));
  let t = 0;
  for (let r = 0; r < rounds; r++) {
    const p = r % PARTITIONS;
    const nodes = cell.partitionNodes(p);
    const claims: Claim[] = [];
    for (let k = 0; k < changesPerDelta; k++) {
      const n = nodes[rng.int(nodes.length)];
      claims.push({ taskId: `immer${changesPerDelta}/${t++}`, jobId: 'immer', nodeId: n.id, demand, seenVersion: n.version });
    }
    cell.applyClaims(claims, r);
    const sync = cell.sync(p, versions[p]);
    versions[p] = sync.version;
    syncs.push(sync);
  }
  for (let i = 0; i < t; i++) cell.release(`immer${changesPerDelta}/${i}`);

  const timeOnce = (name: string, note: string, apply: (s: PartitionSync, i: number) => void): Row => {
    const start = performance.now();
    for (let i = 0; i < syncs.length; i++) apply(syncs[i], i);
    const seconds = (performance.now() - start) / 1000;
    return { name, unit: 'deltas/s', perSecond: syncs.length / seconds, ops: syncs.length, seconds, note };
  };
  const viaImmer = timeOnce(`immer produce ~${changesPerDelta} changes`, 'copy-on-write view: what readers would get from immer', (sync, i) => {
    state = produce(state, (draft) => {
      const part = draft.partitions[sync.partition];
      for (const n of sync.nodes) part.nodes[n.id] = { version: n.version, allocated: n.allocated, condition: n.condition };
      part.version = sync.version;
      part.syncedAt = i;
    });
  });
  const inPlace = timeOnce(`SchedulerView.applySync ~${changesPerDelta} changes`, 'the same deltas applied in place (what tessera does)', (sync, i) => view.applySync(sync, i));
  return [viaImmer, inPlace];
}

// ---------------------------------------------------------------- main
function main(): void {
  const rng = createRng('bench:core');
  const t0 = performance.now();
  const cell = buildCell(rng);
  const now = 1_000_000;
  const view = buildView(cell, now);
  const setupMs = performance.now() - t0;

  const rows: Row[] = [];
  for (const g of ['fine', 'coarse'] as const) rows.push(benchValidate(cell, rng, g));
  rows.push(...benchQuotaCost(cell, rng));
  for (const mode of ['latency-first', 'quality-first'] as const) rows.push(benchPlaceTask(view, now, mode, SAMPLE));
  rows.push(benchPlaceJob(view, now, 'latency-first'));
  rows.push(benchPlaceJob(view, now, 'quality-first'));
  rows.push(benchPlaceTask(view, now, 'quality-first', 0));
  for (const k of [10, 100]) rows.push(benchDeltas(cell, buildView(cell, now), rng, k));
  rows.push(...benchImmerDeltas(cell, rng, 10));

  const meta = {
    bench: 'core',
    node: process.version,
    nodes: NODES,
    partitions: PARTITIONS,
    sampleSize: SAMPLE,
    secondsPerRow: SECONDS,
    setupMs: Math.round(setupMs),
  };
  if (sink < 0) console.log(sink); // keep the work observable
  if (JSON_OUT) {
    console.log(JSON.stringify({ ...meta, results: rows.map((r) => ({ ...r, perSecond: Math.round(r.perSecond) })) }));
    return;
  }
  console.log(`bench:core — ${NODES} nodes, ${PARTITIONS} partitions, node ${process.version}, ${SECONDS}s per row (setup ${meta.setupMs} ms)`);
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'benchmark'.padEnd(w)}  ${'rate'.padStart(12)}  ${'unit'.padEnd(12)}  note`);
  for (const r of rows) {
    const rate = Math.round(r.perSecond).toLocaleString('en-US');
    console.log(`${r.name.padEnd(w)}  ${rate.padStart(12)}  ${r.unit.padEnd(12)}  ${r.note ?? ''}`);
  }
}

main();
