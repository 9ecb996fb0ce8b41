import { describe, expect, it } from 'vitest';
import { burstLimit, decideLiveness, livenessPolicy } from '../src/core/liveness.ts';
import { apply, model, register } from './builders.ts';

const policy = livenessPolicy(10_000); // period 1 s, stall at 3.33 s, burst max(8, 10%)

function cell(nodes: number, agents: number) {
  const m = model();
  for (let a = 0; a < agents; a++) {
    const ids = [];
    for (let i = a; i < nodes; i += agents) ids.push({ id: `n${i}` });
    register(m, `a${a}`, ...ids);
  }
  return m;
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `n${from + i}`);

describe('decideLiveness', () => {
  it('a check that runs far later than planned means the cell-state stalled: nothing is lost', () => {
    const m = cell(1_000, 4);
    const heard = new Map(ids(0, 1_000).map((id) => [id, 0]));
    // The event loop stalled for 15 s: every node looks silent, the agents were fine.
    const d = decideLiveness(m, { lastHeard: heard, lastBeat: heard, inFlight: new Set(), now: 16_000, previousCheck: 1_000 }, policy);
    expect(d).toEqual({ kind: 'stalled', lateMs: 14_000 });
  });

  it('a punctual check with no stall marks silent nodes as before', () => {
    const m = cell(20, 2);
    const heard = new Map(ids(0, 20).map((id) => [id, 10_000]));
    heard.set('n3', 0);
    const d = decideLiveness(m, { lastHeard: heard, lastBeat: heard, inFlight: new Set(), now: 11_000, previousCheck: 10_000 }, policy);
    expect(d).toEqual({ kind: 'check', lost: ['n3'], held: 0, limit: 8 });
    expect(decideLiveness(m, { lastHeard: heard, lastBeat: heard, inFlight: new Set(['n3']), now: 11_000, previousCheck: 10_000 }, policy))
      .toEqual({ kind: 'check', lost: [], held: 0, limit: 8 });
  });

  it('caps a mass loss when no other heartbeats arrive, longest silent first', () => {
    const m = cell(1_000, 4);
    const heard = new Map(ids(0, 1_000).map((id, i) => [id, 1_000 + i]));
    const d = decideLiveness(m, { lastHeard: heard, lastBeat: heard, inFlight: new Set(), now: 20_000, previousCheck: 19_000 }, policy);
    expect(burstLimit(1_000, policy)).toBe(100);
    expect(d).toEqual({ kind: 'check', lost: ids(0, 100), held: 900, limit: 100 });
  });

  it('marks them all when the other agents are heard: the silent agents really died', () => {
    const m = cell(1_000, 4);
    const heard = new Map(ids(0, 1_000).map((id) => [id, 19_500]));
    const dead = ids(0, 1_000).filter((_, i) => i % 4 === 1); // agent a1's 250 nodes
    for (const id of dead) heard.set(id, 5_000);
    const d = decideLiveness(m, { lastHeard: heard, lastBeat: heard, inFlight: new Set(), now: 20_000, previousCheck: 19_000 }, policy);
    expect(d).toMatchObject({ kind: 'check', held: 0 });
    expect(d.kind === 'check' && [...d.lost].sort()).toEqual([...dead].sort());
  });

  it('clock restarts are not heartbeats: after a takeover a cell silent as a whole is still capped', () => {
    const m = cell(100, 2);
    const clocks = new Map(ids(0, 100).map((id) => [id, 1_000]));
    for (const id of ids(0, 50)) clocks.set(id, 10_500); // restarted, never actually heard
    const d = decideLiveness(m, { lastHeard: clocks, lastBeat: new Map(), inFlight: new Set(), now: 12_000, previousCheck: 11_000 }, policy);
    expect(d).toMatchObject({ kind: 'check', held: 40, limit: 10 });
    expect(d.kind === 'check' && d.lost.every((id) => Number(id.slice(1)) >= 50)).toBe(true);
    expect(d.kind === 'check' && d.lost.length).toBe(10);
  });

  it('ignores nodes already lost', () => {
    const m = cell(4, 1);
    apply(m, { t: 'lost', nodes: ['n0'] });
    const heard = new Map(ids(0, 4).map((id) => [id, 0]));
    const d = decideLiveness(m, { lastHeard: heard, lastBeat: heard, inFlight: new Set(), now: 10_500, previousCheck: 9_600 }, policy);
    expect(d).toEqual({ kind: 'check', lost: ['n1', 'n2', 'n3'], held: 0, limit: 8 });
  });
});
