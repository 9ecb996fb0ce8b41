/**
 * FGD's own random draws for openb runs (workloads/fgd-go-rand.openb.json.gz, written by
 * scripts/fgd-go-rand): for each of FGD's seeds (42..51), recorded from Go's math/rand, the order
 * rand.Shuffle gives the name-sorted pods, the rand.Intn(pods) draws of its workload tuning, and
 * the rand.Perm prefixes its simulator puts before the name-sorted node names (which decide its
 * "smallest name" tie-break), so that tessera replays FGD's published runs' arrivals and ties.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface GoSeedDraws {
  readonly seed: number;
  /** shuffle[k] = index (in name order) of the pod arriving k-th. */
  readonly shuffle: readonly number[];
  /** The tuning's rand.Intn(pods) draws, in order; the last one is the pod that passed the target. */
  readonly tuneDraws: readonly number[];
  /** nodePrefix[i] = the number FGD puts before the i-th node's name (nodes in name order). */
  readonly nodePrefix: readonly number[];
}

function isIndexArray(v: unknown, below: number): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0 && x < below);
}

function isPermutation(v: unknown, n: number): v is number[] {
  return isIndexArray(v, n) && v.length === n && new Set(v).size === n;
}

/** Reads and validates the draws file for a trace of `pods` pods on `nodes` nodes. */
export async function readGoDraws(path: string, pods: number, nodes: number): Promise<ReadonlyMap<number, GoSeedDraws>> {
  const doc = JSON.parse(gunzipSync(await readFile(path)).toString('utf8')) as { pods?: unknown; nodes?: unknown; seeds?: unknown };
  if (doc.pods !== pods || doc.nodes !== nodes) {
    throw new Error(`${path}: draws for ${String(doc.pods)} pods on ${String(doc.nodes)} nodes, the trace has ${pods} on ${nodes}`);
  }
  if (!Array.isArray(doc.seeds)) throw new Error(`${path}: no seeds array`);
  const out = new Map<number, GoSeedDraws>();
  for (const [i, s] of (doc.seeds as { seed?: unknown; shuffle?: unknown; tune_draws?: unknown; node_prefix?: unknown }[]).entries()) {
    if (!Number.isInteger(s.seed)) throw new Error(`${path}: seeds[${i}].seed is not an integer`);
    if (!isPermutation(s.shuffle, pods)) throw new Error(`${path}: seeds[${i}].shuffle is not a permutation of ${pods} pods`);
    if (!isIndexArray(s.tune_draws, pods) || s.tune_draws.length === 0) throw new Error(`${path}: seeds[${i}].tune_draws is not a list of pod indexes`);
    if (!isPermutation(s.node_prefix, nodes)) throw new Error(`${path}: seeds[${i}].node_prefix is not a permutation of ${nodes} nodes`);
    out.set(s.seed as number, { seed: s.seed as number, shuffle: s.shuffle, tuneDraws: s.tune_draws, nodePrefix: s.node_prefix });
  }
  return out;
}
