/**
 * Differential test: each hand-written fast validator agrees with its zod schema on accept/refuse
 * and on the first error (path and message), for random valid messages and random mutations of
 * them (wrong types, NaN, negatives, too long, missing fields, extra fields, nulls).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import {
  AGENT_ID, assignMessage, assignMessageFast, commitReply, commitReplyFast, commitRequest, commitRequestFast, decodeAs, encode,
  fastValidators, heartbeatRequest, heartbeatRequestFast, jobBatch, jobBatchFast, jobSubmission, jobSubmissionFast, syncReply, syncReplyFast,
  taskEndedRequest, taskEndedRequestFast, type Validator,
} from '../src/index.ts';

// ---- arbitraries following the schemas --------------------------------------------------------
const str = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.string({ minLength: min, maxLength: Math.min(max, 12) }) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(max)) },
    { weight: 1, arbitrary: fc.constant('y'.repeat(Math.max(min, 1))) },
  );
const id = str(1, 400);
const agentId = fc.oneof(fc.stringMatching(AGENT_ID).filter((s) => s.length <= 64), fc.constant('a'.repeat(64)));
const amount = fc.oneof(fc.double({ min: 0, max: 1e12, noNaN: true, noDefaultInfinity: true }), fc.constant(0), fc.constant(-0), fc.nat());
const version = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(0));
const int = fc.oneof(fc.integer(), fc.constant(-0));
const resourceArray = fc.array(amount, { maxLength: 6 });
const resourceRecord = fc.dictionary(str(0, 64), fc.oneof(fc.double({ noNaN: true }), fc.integer()), { maxKeys: 4 });
const labels = fc.dictionary(str(0, 200), str(0, 400), { maxKeys: 4 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const withOptional = <T extends object>(req: { [K in keyof T]: fc.Arbitrary<T[K]> }, optKeys: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> =>
  fc.record({ ...req, ...optKeys } as Record<string, fc.Arbitrary<unknown>>, { requiredKeys: Object.keys(req) as never[] });

const wireNode = fc.record({
  id, partition: fc.nat(), labels, capacity: resourceArray, allocated: resourceArray,
  condition: fc.constantFrom('ready', 'draining', 'lost'), version,
});
const heartbeatReq = fc.record({ agent: agentId, nodes: fc.array(fc.record({ id, tasks: fc.array(id, { maxLength: 4 }) }), { minLength: 1, maxLength: 4 }) });
const assignment = withOptional(
  { taskId: id, jobId: id, nodeId: id, resources: resourceRecord },
  { durationS: opt(amount), command: opt(fc.array(str(0, 10_000), { maxLength: 3 })) },
);
const assignMsg = fc.record({ assignments: fc.array(assignment, { minLength: 1, maxLength: 4 }) });
const taskEnd = withOptional(
  { taskId: id, nodeId: id, outcome: fc.constantFrom('succeeded', 'failed') },
  { exitCode: opt(int), reason: opt(str(0, 2000)) },
);
const taskEndedReq = fc.record({ agent: agentId, tasks: fc.array(taskEnd, { minLength: 1, maxLength: 4 }) });
const syncRep = fc.record({
  ok: fc.constant(true), partitions: fc.integer({ min: 1, max: 1000 }),
  syncs: fc.array(fc.record({ partition: fc.nat(), version, kind: fc.constantFrom('delta', 'snapshot'), nodes: fc.array(wireNode, { maxLength: 3 }) }), { maxLength: 3 }),
});
const constraint = withOptional(
  { label: str(1, 200), op: fc.constantFrom('in', 'not_in', 'exists', 'not_exists') },
  { values: opt(fc.array(str(0, 200), { maxLength: 3 })) },
);
const claim = withOptional(
  { taskId: id, jobId: id, nodeId: id, demand: resourceArray, seenVersion: version },
  { constraints: opt(fc.array(constraint, { maxLength: 2 })) },
);
const txn = fc.record({ id, schedulerId: str(1, 200), kind: fc.constantFrom('incremental', 'all-or-nothing'), claims: fc.array(claim, { minLength: 1, maxLength: 4 }) });
const commitReq = fc.record({ resources: fc.array(str(1, 64), { minLength: 1, maxLength: 4 }), txns: fc.array(txn, { minLength: 1, maxLength: 3 }) });
const txnResult = withOptional(
  {
    txnId: id, committed: fc.array(id, { maxLength: 3 }),
    rejected: fc.array(fc.record({ taskId: id, nodeId: id, reason: fc.string() }), { maxLength: 3 }),
    nodes: fc.array(wireNode, { maxLength: 3 }), seq: int,
  },
  { replayed: opt(fc.boolean()) },
);
const commitRep = fc.record({ ok: fc.constant(true), results: fc.array(txnResult, { maxLength: 3 }) });
const jobSpecLike = fc.dictionary(str(0, 8), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.dictionary(str(0, 4), fc.integer(), { maxKeys: 2 }), { maxLength: 2 })), { maxKeys: 4 });
const submittedAt = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.nat());
const jobSub = withOptional({ job: jobSpecLike, submittedAt }, { tasks: opt(fc.array(id, { maxLength: 3 })), attempt: opt(fc.nat()), notBefore: opt(submittedAt) });
const jobBat = fc.record({ jobs: fc.array(jobSpecLike, { minLength: 1, maxLength: 4 }), submittedAt });

// ---- mutations ------------------------------------------------------------------------------------
const BAD_VALUES: readonly unknown[] = [
  null, NaN, -1, -0.5, 1.5, Infinity, -Infinity, '', 'x'.repeat(65), 'x'.repeat(201), 'x'.repeat(401), 'not an agent!',
  'bogus', true, false, 0, 1, [], {}, [1], ['a'], { a: 1 }, new Uint8Array([1, 2]), new Date(0),
];
type Op = { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'extra' } | { kind: 'grow'; n: number } | { kind: 'empty' } | { kind: 'manyKeys' };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...BAD_VALUES).map((value) => ({ kind: 'set' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'extra' as const }) },
  { weight: 2, arbitrary: fc.constantFrom(65, 101, 1001, 4097).map((n) => ({ kind: 'grow' as const, n })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'manyKeys' as const }) },
);

/** Every container (object or array) in `v` with each of its keys, depth-first. */
function slots(v: unknown, out: Array<[Record<string | number, unknown>, string | number]> = []): Array<[Record<string | number, unknown>, string | number]> {
  if (Array.isArray(v)) v.forEach((e, i) => { out.push([v as never, i]); slots(e, out); });
  else if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !(v instanceof Date)) {
    for (const k of Object.keys(v)) { out.push([v as never, k]); slots((v as Record<string, unknown>)[k], out); }
  }
  return out;
}

function mutate(value: unknown, pick: number, o: Op): unknown {
  const root = structuredClone(value);
  const all = slots(root);
  if (all.length === 0) return root;
  const [parent, key] = all[pick % all.length];
  const target = parent[key];
  switch (o.kind) {
    case 'set': parent[key] = o.value; break;
    case 'delete': if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key]; break;
    case 'extra': if (typeof target === 'object' && target !== null && !Array.isArray(target)) (target as Record<string, unknown>).extraKey = 1; else parent[key] = { extra: true }; break;
    case 'grow': if (Array.isArray(target)) { const t = target.length > 0 ? target[0] : 'z'; while (target.length < o.n) target.push(structuredClone(t)); } else parent[key] = 'x'.repeat(o.n); break;
    case 'empty': parent[key] = Array.isArray(target) ? [] : typeof target === 'string' ? '' : {}; break;
    case 'manyKeys': {
      const r: Record<string, unknown> = {};
      for (let i = 0; i < 70; i++) r[`k${i}`] = 'v';
      parent[key] = r;
      break;
    }
  }
  return root;
}

/** The zod-wrapped fast validator's plain twin (same checks without zod's per-call wrapper). */
const PLAIN = new Map<unknown, Validator<unknown>>([
  [heartbeatRequestFast, fastValidators.heartbeatRequest], [assignMessageFast, fastValidators.assignMessage],
  [taskEndedRequestFast, fastValidators.taskEndedRequest], [syncReplyFast, fastValidators.syncReply],
  [commitRequestFast, fastValidators.commitRequest], [commitReplyFast, fastValidators.commitReply],
  [jobSubmissionFast, fastValidators.jobSubmission], [jobBatchFast, fastValidators.jobBatch],
]);

function same(fast: Validator<unknown>, schema: z.ZodTypeAny, x: unknown): void {
  agree(fast, schema, x);
  agree(PLAIN.get(fast)!, schema, x);
}

function agree(fast: Validator<unknown>, schema: z.ZodTypeAny, x: unknown): void {
  const a = schema.safeParse(x);
  const b = fast.safeParse(x);
  expect(b.success, JSON.stringify(a.success ? 'zod accepted' : a.error.issues[0])).toBe(a.success);
  if (b.success) expect(b.data).toBe(x);
  if (!a.success && !b.success) {
    expect(b.error.issues[0].path).toEqual(a.error.issues[0].path);
    expect(b.error.issues[0].message).toBe(a.error.issues[0].message);
  }
}

const CASES: Array<[string, Validator<unknown>, z.ZodTypeAny, fc.Arbitrary<unknown>]> = [
  ['heartbeatRequest', heartbeatRequestFast, heartbeatRequest, heartbeatReq],
  ['assignMessage', assignMessageFast, assignMessage, assignMsg],
  ['taskEndedRequest', taskEndedRequestFast, taskEndedRequest, taskEndedReq],
  ['syncReply', syncReplyFast, syncReply, syncRep],
  ['commitRequest', commitRequestFast, commitRequest, commitReq],
  ['commitReply', commitReplyFast, commitReply, commitRep],
  ['jobSubmission', jobSubmissionFast, jobSubmission, jobSub],
  ['jobBatch', jobBatchFast, jobBatch, jobBat],
];

describe('fast validators agree with the zod schemas', () => {
  for (const [name, fast, schema, arb] of CASES) {
    it(`${name}: valid messages are accepted as-is`, () => {
      fc.assert(fc.property(arb, (v) => {
        expect(schema.safeParse(v).success).toBe(true);
        same(fast, schema, v);
      }), { numRuns: 300 });
    });
    it(`${name}: mutated messages get the same verdict and first error`, () => {
      fc.assert(fc.property(arb, fc.nat(), op, (v, pick, o) => same(fast, schema, mutate(v, pick, o))), { numRuns: 1500 });
    });
    it(`${name}: non-objects are refused at the root`, () => {
      for (const x of [undefined, ...BAD_VALUES]) same(fast, schema, x);
    });
  }
});

describe('table-driven cases', () => {
  const node = { id: 'n1', partition: 0, labels: { zone: 'a' }, capacity: [4, 8], allocated: [0, 0], condition: 'ready', version: 3 };
  const claim0 = { taskId: 't1', jobId: 'j1', nodeId: 'n1', demand: [1, 2], seenVersion: 3 };
  const commit = { resources: ['cpu', 'mem'], txns: [{ id: 'x1', schedulerId: 's1', kind: 'incremental', claims: [claim0] }] };
  const withClaim = (c: Record<string, unknown>) => ({ ...commit, txns: [{ ...commit.txns[0], claims: [claim0, c] }] });
  const table: Array<[string, Validator<unknown>, z.ZodTypeAny, unknown, string | null]> = [
    ['valid commit', commitRequestFast, commitRequest, commit, null],
    ['extra keys are accepted (zod strips them)', commitRequestFast, commitRequest, { ...commit, extra: 1 }, null],
    ['NaN demand', commitRequestFast, commitRequest, withClaim({ ...claim0, demand: [NaN] }), 'txns.0.claims.1.demand.0'],
    ['negative demand', commitRequestFast, commitRequest, withClaim({ ...claim0, demand: [-1] }), 'txns.0.claims.1.demand.0'],
    ['infinite demand', commitRequestFast, commitRequest, withClaim({ ...claim0, demand: [Infinity] }), 'txns.0.claims.1.demand.0'],
    ['fractional seenVersion', commitRequestFast, commitRequest, withClaim({ ...claim0, seenVersion: 1.5 }), 'txns.0.claims.1.seenVersion'],
    ['null constraints', commitRequestFast, commitRequest, withClaim({ ...claim0, constraints: null }), 'txns.0.claims.1.constraints'],
    ['bad op', commitRequestFast, commitRequest, withClaim({ ...claim0, constraints: [{ label: 'a', op: 'near' }] }), 'txns.0.claims.1.constraints.0.op'],
    ['empty resources', commitRequestFast, commitRequest, { ...commit, resources: [] }, 'resources'],
    ['id of 401', commitRequestFast, commitRequest, withClaim({ ...claim0, taskId: 'x'.repeat(401) }), 'txns.0.claims.1.taskId'],
    ['missing txns', commitRequestFast, commitRequest, { resources: ['cpu'] }, 'txns'],
    ['bad agent', heartbeatRequestFast, heartbeatRequest, { agent: 'a b', nodes: [{ id: 'n', tasks: [] }] }, 'agent'],
    ['no nodes', heartbeatRequestFast, heartbeatRequest, { agent: 'a', nodes: [] }, 'nodes'],
    ['bad outcome', taskEndedRequestFast, taskEndedRequest, { agent: 'a', tasks: [{ taskId: 't', nodeId: 'n', outcome: 'ok' }] }, 'tasks.0.outcome'],
    ['float exit code', taskEndedRequestFast, taskEndedRequest, { agent: 'a', tasks: [{ taskId: 't', nodeId: 'n', outcome: 'failed', exitCode: 0.5 }] }, 'tasks.0.exitCode'],
    ['negative duration', assignMessageFast, assignMessage, { assignments: [{ taskId: 't', jobId: 'j', nodeId: 'n', resources: {}, durationS: -1 }] }, 'assignments.0.durationS'],
    ['string resource', assignMessageFast, assignMessage, { assignments: [{ taskId: 't', jobId: 'j', nodeId: 'n', resources: { cpu: '1' } }] }, 'assignments.0.resources.cpu'],
    ['partitions 0', syncReplyFast, syncReply, { ok: true, partitions: 0, syncs: [] }, 'partitions'],
    ['65 labels', syncReplyFast, syncReply, { ok: true, partitions: 1, syncs: [{ partition: 0, version: 1, kind: 'delta', nodes: [{ ...node, labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }] }] }, 'syncs.0.nodes.0.labels'],
    ['ok false', commitReplyFast, commitReply, { ok: false, results: [] }, 'ok'],
    ['job not an object', jobSubmissionFast, jobSubmission, { job: [1], submittedAt: 1 }, 'job'],
    ['infinite submittedAt', jobSubmissionFast, jobSubmission, { job: {}, submittedAt: Infinity }, 'submittedAt'],
    ['NaN notBefore', jobSubmissionFast, jobSubmission, { job: {}, submittedAt: 1, notBefore: NaN }, 'notBefore'],
    ['negative attempt', jobSubmissionFast, jobSubmission, { job: {}, submittedAt: 1, attempt: -1 }, 'attempt'],
    ['empty batch', jobBatchFast, jobBatch, { jobs: [], submittedAt: 1 }, 'jobs'],
    ['1001 jobs', jobBatchFast, jobBatch, { jobs: Array.from({ length: 1001 }, () => ({})), submittedAt: 1 }, 'jobs'],
    ['null job in a batch', jobBatchFast, jobBatch, { jobs: [{}, null], submittedAt: 1 }, 'jobs.1'],
    ['replayed string', commitReplyFast, commitReply, { ok: true, results: [{ txnId: 'x', committed: [], rejected: [], nodes: [node], seq: 1, replayed: 'yes' }] }, 'results.0.replayed'],
  ];
  for (const [name, fast, schema, x, path] of table) {
    it(name, () => {
      same(fast, schema, x);
      const r = fast.safeParse(x);
      if (path === null) expect(r.success).toBe(true);
      else expect(!r.success && r.error.issues[0].path.join('.')).toBe(path);
    });
  }

  it('the zod-wrapped fast validators work nested in zod schemas (parse, path prefix)', () => {
    const outer = z.object({ inner: commitRequestFast });
    expect(outer.parse({ inner: commit }).inner).toBe(commit);
    const r = outer.safeParse({ inner: withClaim({ ...claim0, demand: [-1] }) });
    expect(!r.success && r.error.issues[0].path.join('.')).toBe('inner.txns.0.claims.1.demand.0');
    expect(() => commitRequestFast.parse({})).toThrow(z.ZodError);
  });

  it('decodeAs takes a fast validator and formats its path like zod', () => {
    const bytes = encode(withClaim({ ...claim0, demand: [-1] }));
    expect(decodeAs(bytes, commitRequestFast)).toEqual(decodeAs(bytes, commitRequest));
    expect(decodeAs(bytes, fastValidators.commitRequest)).toEqual(decodeAs(bytes, commitRequest));
    const ok = decodeAs(encode(commit), commitRequestFast);
    expect(ok.ok && ok.value.txns[0].claims[0].taskId).toBe('t1');
  });
});
