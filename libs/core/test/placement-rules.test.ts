import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Committer, ruleBreach, validateJobSpec, expandTasks, type Claim, type PlacementRules, type TaskLocations } from '../src/index.ts';
import { makeCell, space, vec } from './builders.ts';

/** Nodes n0..n5: zones a, a, b, b, c, c. */
const ZONES = ['a', 'a', 'b', 'b', 'c', 'c'];
const nodes = ZONES.map((zone, i) => ({ id: `n${i}`, labels: { zone } }));

/** Task locations from a plain table: job → node ids (one entry per task). */
function at(tasks: Record<string, string[]>): TaskLocations {
  return {
    tasksOf(job) {
      const list = tasks[job];
      if (list === undefined) return undefined;
      const m = new Map<string, number>();
      for (const n of list) m.set(n, (m.get(n) ?? 0) + 1);
      return m;
    },
    labelsOf: (id) => nodes.find((n) => n.id === id)?.labels,
    domains: (label) => [...new Set(nodes.map((n) => (label === 'node' ? n.id : n.labels[label as 'zone'])))],
  };
}

describe('ruleBreach (DESIGN §12)', () => {
  const distinctNode: PlacementRules = { distinct: { label: 'node', limit: 1 } };
  const distinctZone2: PlacementRules = { distinct: { label: 'zone', limit: 2 } };
  const spread1: PlacementRules = { spread: { label: 'zone', maxSkew: 1 } };
  const anti: PlacementRules = { antiAffinity: [{ job: 'db', label: 'zone' }] };
  const aff: PlacementRules = { affinity: [{ job: 'db', label: 'zone' }] };
  it.each([
    ['distinct per node: a free node', distinctNode, { j: ['n0'] }, 'n1', undefined],
    ['distinct per node: a node with the job', distinctNode, { j: ['n0'] }, 'n0', 'distinct'],
    ['distinct per zone, limit 2: second in the zone', distinctZone2, { j: ['n0'] }, 'n1', undefined],
    ['distinct per zone, limit 2: third in the zone', distinctZone2, { j: ['n0', 'n1'] }, 'n0', 'distinct'],
    ['distinct on a label the node lacks', { distinct: { label: 'rack', limit: 1 } }, {}, 'n0', 'distinct'],
    ['spread 1: first task anywhere', spread1, {}, 'n0', undefined],
    ['spread 1: second in a zone while another is empty', spread1, { j: ['n0'] }, 'n1', 'spread'],
    ['spread 1: into an empty zone', spread1, { j: ['n0'] }, 'n2', undefined],
    ['spread 1: round two once every zone has one', spread1, { j: ['n0', 'n2', 'n4'] }, 'n1', undefined],
    ['anti-affinity: a zone without db', anti, { db: ['n0'] }, 'n2', undefined],
    ['anti-affinity: db in the zone (another node)', anti, { db: ['n0'] }, 'n1', 'anti_affinity'],
    ['anti-affinity: db placed nowhere', anti, {}, 'n0', undefined],
    ['affinity: a zone with db', aff, { db: ['n3'] }, 'n2', undefined],
    ['affinity: a zone without db', aff, { db: ['n3'] }, 'n0', 'affinity'],
    ['affinity: db placed nowhere yet', aff, {}, 'n0', 'affinity'],
  ] as const)('%s', (_name, rules, tasks, node, expected) => {
    const n = nodes.find((x) => x.id === node)!;
    expect(ruleBreach(rules, 'j', n, at(tasks as Record<string, string[]>))).toBe(expected);
  });
});

describe('job spec: placement rule fields', () => {
  const job = (group: Record<string, unknown>) => validateJobSpec({ id: 'j', tasks: [{ name: 'g', count: 3, resources: { cpu_millis: 100 }, ...group }] }, space);
  it.each([
    [{ spread: { label: 'zone', max_skew: 0 } }, 'tasks[0].spread.max_skew'],
    [{ spread: { label: '', max_skew: 1 } }, 'tasks[0].spread.label'],
    [{ distinct: { label: 'node', limit: 1.5 } }, 'tasks[0].distinct.limit'],
    [{ distinct: { label: 'node', extra: 1 } }, 'tasks[0].distinct'],
    [{ affinity: [] }, 'tasks[0].affinity'],
    [{ anti_affinity: [{ job: 'has space', label: 'zone' }] }, 'tasks[0].anti_affinity[0].job'],
  ])('refuses %j at %s', (group, path) => {
    const r = job(group);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.path).toBe(path);
  });

  it('expands the rules onto every task of the group (one shared object, distinct limit defaulting to 1)', () => {
    const r = job({ distinct: { label: 'node' }, spread: { label: 'zone', max_skew: 2 }, anti_affinity: [{ job: 'db', label: 'zone' }] });
    if (!r.ok) throw new Error(r.error.path);
    const tasks = expandTasks(r.job, space);
    expect(tasks[0].rules).toEqual({ spread: { label: 'zone', maxSkew: 2 }, distinct: { label: 'node', limit: 1 }, antiAffinity: [{ job: 'db', label: 'zone' }] });
    expect(tasks[1].rules).toBe(tasks[0].rules);
  });
});

describe('placement rules at the committer', () => {
  const cell = () => makeCell(nodes.map((n) => ({ id: n.id, cap: [10_000, 10_000, 0], labels: n.labels })));
  const claim = (c: ReturnType<typeof cell>, job: string, i: number, node: string, rules?: PlacementRules): Claim =>
    ({ taskId: `${job}/g/${i}`, jobId: job, nodeId: node, demand: vec(100, 0, 0), seenVersion: c.node(node)!.version, ...(rules === undefined ? {} : { rules }) });

  it('refuses the second of two anti-affine jobs racing into one zone, whichever views they had', () => {
    const c = cell();
    const committer = new Committer(c, { granularity: 'fine' });
    const r1 = committer.commit({ id: 't1', schedulerId: 's0', kind: 'incremental', claims: [claim(c, 'web', 0, 'n0', { antiAffinity: [{ job: 'db', label: 'zone' }] })] }, 1);
    const r2 = committer.commit({ id: 't2', schedulerId: 's1', kind: 'incremental', claims: [claim(c, 'db', 0, 'n1', { antiAffinity: [{ job: 'web', label: 'zone' }] })] }, 2);
    expect(r1.committed).toEqual(['web/g/0']);
    expect(r2.rejected).toEqual([{ taskId: 'db/g/0', nodeId: 'n1', reason: 'placement_rule' }]);
  });

  it('counts the earlier claims of the same transaction (distinct per node)', () => {
    const c = cell();
    const committer = new Committer(c, { granularity: 'fine' });
    const rules: PlacementRules = { distinct: { label: 'node', limit: 1 } };
    const r = committer.commit({ id: 't', schedulerId: 's', kind: 'incremental', claims: [claim(c, 'j', 0, 'n0', rules), claim(c, 'j', 1, 'n0', rules), claim(c, 'j', 2, 'n1', rules)] }, 1);
    expect(r.committed).toEqual(['j/g/0', 'j/g/2']);
    expect(r.rejected.map((x) => [x.taskId, x.reason])).toEqual([['j/g/1', 'placement_rule']]);
  });

  it('property: transactions from 4 racing replicas never commit a placement that breaks a hard rule', () => {
    const RULES: Record<string, PlacementRules> = {
      web: { distinct: { label: 'node', limit: 1 }, antiAffinity: [{ job: 'db', label: 'zone' }] },
      db: { distinct: { label: 'zone', limit: 2 }, antiAffinity: [{ job: 'web', label: 'zone' }] },
      api: { spread: { label: 'zone', maxSkew: 1 } },
    };
    const JOBS = Object.keys(RULES);
    const txnArb = fc.record({ replica: fc.integer({ min: 0, max: 3 }), gang: fc.boolean(), claims: fc.array(fc.record({ job: fc.constantFrom(...JOBS), node: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 4 }) });
    fc.assert(fc.property(fc.array(txnArb, { maxLength: 40 }), (txns) => {
      const c = cell();
      const committer = new Committer(c, { granularity: 'fine' });
      let n = 0;
      txns.forEach((t, k) => {
        // One job per transaction, as a replica proposes them.
        const job = t.claims[0].job;
        committer.commit({ id: `t${k}`, schedulerId: `s${t.replica}`, kind: t.gang ? 'all-or-nothing' : 'incremental', claims: t.claims.map((x) => claim(c, job, n++, `n${x.node}`, RULES[job])) }, k + 1);
        // The invariants, on the committed cell.
        const zoneOf = (id: string) => ZONES[Number(id.slice(1))];
        const per = (job: string, key: (id: string) => string) => {
          const m = new Map<string, number>();
          for (const [node, k2] of c.tasksOfJob(job) ?? []) m.set(key(node), (m.get(key(node)) ?? 0) + k2);
          return m;
        };
        for (const v of per('web', (id) => id).values()) expect(v).toBeLessThanOrEqual(1);
        for (const v of per('db', zoneOf).values()) expect(v).toBeLessThanOrEqual(2);
        const webZones = new Set(per('web', zoneOf).keys());
        for (const z of per('db', zoneOf).keys()) expect(webZones.has(z)).toBe(false);
        const api = per('api', zoneOf);
        const counts = ['a', 'b', 'c'].map((z) => api.get(z) ?? 0);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      });
    }), { numRuns: 300 });
  });
});
