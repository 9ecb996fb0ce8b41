import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { shapeOfTask } from '@tessera/policy';
import { BUNDLED } from '@tessera/workloads';
import { readGoDraws } from '../src/fgd/go-draws.ts';
import { fgdArrivals, fgdNodes, loadOpenb, totalMilliOf } from '../src/fgd/openb.ts';
import { runFgd } from '../src/fgd/run.ts';

describe("FGD's openb protocol with FGD's own draws", () => {
  it('replays the recorded shuffle and tuning for seeds 42..51', async () => {
    const cell = await loadOpenb();
    expect([...cell.goDraws.keys()]).toEqual([42, 43, 44, 45, 46, 47, 48, 49, 50, 51]);
    const go = cell.goDraws.get(42)!;
    const arrivals = fgdArrivals(cell, 42);
    // The shuffled pods, then one tuned pod per draw but the last (the one that passed the target).
    expect(arrivals.length).toBe(cell.pods.length + go.tuneDraws.length - 1);
    expect(arrivals.slice(0, 3).map((t) => t.jobId)).toEqual(go.shuffle.slice(0, 3).map((i) => cell.pods[i].jobId));
    expect(arrivals[cell.pods.length].jobId).toBe(`${cell.pods[go.tuneDraws[0]].jobId}-tuned-0`);
    let milli = 0;
    for (const t of arrivals) milli += totalMilliOf(shapeOfTask(t, cell.space));
    expect(milli).toBeLessThanOrEqual(1.3 * cell.gpuMilli);
    expect(() => fgdArrivals(cell, 42, 1.2)).toThrow(/tune 1.3/);
  });

  it("names the nodes as FGD's simulator does, so name order is FGD's tie order", async () => {
    const cell = await loadOpenb();
    const go = cell.goDraws.get(43)!;
    const nodes = fgdNodes(cell, 43);
    const ids = nodes.map((n) => n.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids.map((id) => id.slice(5)))).toEqual(new Set(cell.nodes.map((n) => n.id)));
    expect(ids).toContain(`${String(go.nodePrefix[0]).padStart(4, '0')}-${cell.nodes[0].id}`);
    // A seed without FGD's draws keeps the trace's names.
    expect(fgdNodes(cell, 1)).toBe(cell.nodes);
  });

  it('refuses a draws file that does not fit the trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fgd-draws-'));
    const write = (doc: unknown) => {
      const f = join(dir, `${Math.random()}.json.gz`);
      writeFileSync(f, gzipSync(JSON.stringify(doc)));
      return f;
    };
    const seed = { seed: 42, shuffle: [0, 1, 2], tune_draws: [1], node_prefix: [1, 0] };
    await expect(readGoDraws(write({ pods: 3, nodes: 2, seeds: [seed] }), 3, 2)).resolves.toHaveProperty('size', 1);
    await expect(readGoDraws(write({ pods: 4, nodes: 2, seeds: [seed] }), 3, 2)).rejects.toThrow(/4 pods/);
    await expect(readGoDraws(write({ pods: 3, nodes: 2, seeds: [{ ...seed, shuffle: [0, 1, 1] }] }), 3, 2)).rejects.toThrow(/shuffle is not a permutation/);
    await expect(readGoDraws(write({ pods: 3, nodes: 2, seeds: [{ ...seed, tune_draws: [3] }] }), 3, 2)).rejects.toThrow(/tune_draws/);
    await expect(readGoDraws(write({ pods: 3, nodes: 2, seeds: [{ ...seed, node_prefix: [0, 0] }] }), 3, 2)).rejects.toThrow(/node_prefix/);
    expect(BUNDLED.fgdGoRandOpenb).toMatch(/fgd-go-rand\.openb\.json\.gz$/);
  });

  it("lands best-fit on seed 42 near FGD's own run of that seed (92.94 %)", async () => {
    const r = await runFgd({ policy: 'bestfit', seed: 42 });
    expect(r.alloc_pct_at_100).not.toBeNull();
    expect(Math.abs(r.alloc_pct_at_100! - 92.94)).toBeLessThan(0.3);
  }, 60_000);
});
