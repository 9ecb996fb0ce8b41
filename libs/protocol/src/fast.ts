/**
 * Hand-written validators for the highest-volume messages, with exactly the acceptance rules of
 * their zod schemas in messages.ts (bounds, regexes, enums, optional fields, finite non-negative
 * amounts, integer versions) and the same first error (path and message) in zod's depth-first,
 * shape-order traversal. Plain loops, no per-field closures, no copies: a valid message is
 * returned as-is (`data` is the input object), and an error path is only built on failure.
 *
 * Unknown keys: zod's (non-strict) `.object()` accepts them and strips them from its output;
 * these validators accept them too and leave them in place (no copy is made). Handlers read only
 * the declared fields, so the difference is invisible to them — with one pass-through to know of:
 * `claimFromWire` hands a claim's `constraints` objects on as they are, so an extra key on a
 * constraint may travel with the transaction (e.g. into the commit log); it is never read.
 *
 * Each validator is exported twice: `xxxFast` is a `z.ZodType` (so it fits code typed for zod
 * schemas; its `safeParse` bypasses zod and only builds a ZodError on failure), and
 * `fastValidators.xxx` is a plain `Validator<T>`.
 *
 * Checked against the zod schemas by a differential property test (test/fast-validators.test.ts).
 */
import { z } from 'zod';
import { CONSTRAINT_OPS, NODE_CONDITIONS, TXN_KINDS } from '@tessera/core';
import type { SafeParseResult, Validator } from './codec.ts';
import { wireQueueUsage } from './queues.ts';
import { AGENT_ID } from './subjects.ts';
import {
  MAX_JOBS_PER_MESSAGE, TASK_OUTCOMES,
  type AssignMessage, type CommitReply, type CommitRequest, type HeartbeatRequest, type JobBatch, type JobSubmission, type SyncReply,
  type TaskEndedRequest,
} from './messages.ts';

const MAX_BATCH = 20_000;

interface Fail {
  path: (string | number)[];
  message: string;
}
type R = Fail | null;

function fail(message: string): Fail {
  return { path: [], message };
}
function at(f: Fail, key: string | number): Fail {
  f.path.unshift(key);
  return f;
}

/** zod's parsed-type name, for "Expected X, received Y". */
function typeName(x: unknown): string {
  switch (typeof x) {
    case 'undefined': return 'undefined';
    case 'string': return 'string';
    case 'number': return Number.isNaN(x) ? 'nan' : 'number';
    case 'boolean': return 'boolean';
    case 'function': return 'function';
    case 'bigint': return 'bigint';
    case 'symbol': return 'symbol';
    default:
      if (Array.isArray(x)) return 'array';
      if (x === null) return 'null';
      if (typeof (x as { then?: unknown }).then === 'function' && typeof (x as { catch?: unknown }).catch === 'function') return 'promise';
      if (typeof Map !== 'undefined' && x instanceof Map) return 'map';
      if (typeof Set !== 'undefined' && x instanceof Set) return 'set';
      if (typeof Date !== 'undefined' && x instanceof Date) return 'date';
      return 'object';
  }
}

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && typeName(x) === 'object';
}

function invalidType(expected: string, x: unknown): Fail {
  return fail(x === undefined ? 'Required' : `Expected ${expected}, received ${typeName(x)}`);
}

function str(x: unknown, min: number, max: number): R {
  if (typeof x !== 'string') return invalidType('string', x);
  if (x.length < min) return fail(`String must contain at least ${min} character(s)`);
  if (x.length > max) return fail(`String must contain at most ${max} character(s)`);
  return null;
}

/** `id`: z.string().min(1).max(400). */
function id(x: unknown): R {
  return str(x, 1, 400);
}

function agentId(x: unknown): R {
  if (typeof x !== 'string') return invalidType('string', x);
  if (!AGENT_ID.test(x)) return fail('agent ids are 1-64 of A-Z a-z 0-9 _ -');
  return null;
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && !Number.isNaN(x);
}

/** z.number().finite().nonnegative() */
function amount(x: unknown): R {
  if (!isNum(x)) return invalidType('number', x);
  if (!Number.isFinite(x)) return fail('Number must be finite');
  if (x < 0) return fail('Number must be greater than or equal to 0');
  return null;
}

/** z.number().int() */
function int(x: unknown): R {
  if (!isNum(x)) return invalidType('number', x);
  if (!Number.isInteger(x)) return fail('Expected integer, received float');
  return null;
}

/** z.number().int().nonnegative() */
function nonNegInt(x: unknown): R {
  const f = int(x);
  if (f !== null) return f;
  if ((x as number) < 0) return fail('Number must be greater than or equal to 0');
  return null;
}

function enumOf(x: unknown, values: readonly string[]): R {
  if (typeof x !== 'string') return invalidType(values.map((v) => `'${v}'`).join(' | '), x);
  for (let i = 0; i < values.length; i++) if (values[i] === x) return null;
  return fail(`Invalid enum value. Expected ${values.map((v) => `'${v}'`).join(' | ')}, received '${x}'`);
}

/** GPU device indexes (claims, assignments): absent, or up to 64 integers ≥ 0. */
function optionalDevices(x: unknown): R {
  if (x === undefined) return null;
  const e = arr(x, 0, 64);
  if (e !== null) return e;
  const a = x as unknown[];
  for (let i = 0; i < a.length; i++) {
    const f = nonNegInt(a[i]);
    if (f !== null) return at(f, i);
  }
  return null;
}

function literalTrue(x: unknown): R {
  return x === true ? null : fail('Invalid literal value, expected true');
}

/** Array type and bounds (checked before the elements, as zod does). */
function arr(x: unknown, min: number, max: number): R {
  if (!Array.isArray(x)) return invalidType('array', x);
  if (x.length < min) return fail(`Array must contain at least ${min} element(s)`);
  if (x.length > max) return fail(`Array must contain at most ${max} element(s)`);
  return null;
}

function idArray(x: unknown, max: number): R {
  const f = arr(x, 0, max);
  if (f !== null) return f;
  const a = x as unknown[];
  for (let i = 0; i < a.length; i++) {
    const e = id(a[i]);
    if (e !== null) return at(e, i);
  }
  return null;
}

/** resourceArray: z.array(amount).max(64) */
function resourceArray(x: unknown): R {
  const f = arr(x, 0, 64);
  if (f !== null) return f;
  const a = x as unknown[];
  for (let i = 0; i < a.length; i++) {
    const e = amount(a[i]);
    if (e !== null) return at(e, i);
  }
  return null;
}

/** resourceRecord: z.record(z.string().max(64), z.number()) */
function resourceRecord(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  for (const k in x) {
    if (k.length > 64) return at(fail('String must contain at most 64 character(s)'), k);
    const v = x[k];
    if (!isNum(v)) return at(invalidType('number', v), k);
  }
  return null;
}

/** labels: z.record(z.string().max(200), z.string().max(400)) refined to at most 64 keys. */
function labels(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let n = 0;
  for (const k in x) {
    if (k.length > 200) return at(fail('String must contain at most 200 character(s)'), k);
    const e = str(x[k], 0, 400);
    if (e !== null) return at(e, k);
    n++;
  }
  if (n > 64) return fail('at most 64 labels');
  return null;
}

// ---- heartbeatRequest ----------------------------------------------------------------------
function heartbeatRequestCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = agentId(x.agent);
  if (e !== null) return at(e, 'agent');
  const nodes = x.nodes;
  e = arr(nodes, 1, MAX_BATCH);
  if (e !== null) return at(e, 'nodes');
  const a = nodes as unknown[];
  for (let i = 0; i < a.length; i++) {
    const n = a[i];
    if (!isObj(n)) return at(at(invalidType('object', n), i), 'nodes');
    e = id(n.id);
    if (e !== null) return at(at(at(e, 'id'), i), 'nodes');
    e = idArray(n.tasks, MAX_BATCH);
    if (e !== null) return at(at(at(e, 'tasks'), i), 'nodes');
  }
  return null;
}

// ---- assignMessage -------------------------------------------------------------------------
function assignmentCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.taskId);
  if (e !== null) return at(e, 'taskId');
  e = id(x.jobId);
  if (e !== null) return at(e, 'jobId');
  e = id(x.nodeId);
  if (e !== null) return at(e, 'nodeId');
  e = resourceRecord(x.resources);
  if (e !== null) return at(e, 'resources');
  e = optionalDevices(x.devices);
  if (e !== null) return at(e, 'devices');
  if (x.durationS !== undefined) {
    e = amount(x.durationS);
    if (e !== null) return at(e, 'durationS');
  }
  const c = x.command;
  if (c !== undefined) {
    e = arr(c, 0, 1000);
    if (e !== null) return at(e, 'command');
    const a = c as unknown[];
    for (let i = 0; i < a.length; i++) {
      e = str(a[i], 0, 10_000);
      if (e !== null) return at(at(e, i), 'command');
    }
  }
  return null;
}

function assignMessageCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  const as = x.assignments;
  let e = arr(as, 1, MAX_BATCH);
  if (e !== null) return at(e, 'assignments');
  const a = as as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = assignmentCheck(a[i]);
    if (e !== null) return at(at(e, i), 'assignments');
  }
  return null;
}

// ---- taskEndedRequest ----------------------------------------------------------------------
function taskEndCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.taskId);
  if (e !== null) return at(e, 'taskId');
  e = id(x.nodeId);
  if (e !== null) return at(e, 'nodeId');
  e = enumOf(x.outcome, TASK_OUTCOMES);
  if (e !== null) return at(e, 'outcome');
  if (x.exitCode !== undefined) {
    e = int(x.exitCode);
    if (e !== null) return at(e, 'exitCode');
  }
  if (x.reason !== undefined) {
    e = str(x.reason, 0, 2000);
    if (e !== null) return at(e, 'reason');
  }
  return null;
}

function taskEndedRequestCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = agentId(x.agent);
  if (e !== null) return at(e, 'agent');
  const ts = x.tasks;
  e = arr(ts, 1, MAX_BATCH);
  if (e !== null) return at(e, 'tasks');
  const a = ts as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = taskEndCheck(a[i]);
    if (e !== null) return at(at(e, i), 'tasks');
  }
  return null;
}

// ---- wire nodes / syncReply ----------------------------------------------------------------
function wireNodeCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.id);
  if (e !== null) return at(e, 'id');
  e = nonNegInt(x.partition);
  if (e !== null) return at(e, 'partition');
  e = labels(x.labels);
  if (e !== null) return at(e, 'labels');
  e = resourceArray(x.capacity);
  if (e !== null) return at(e, 'capacity');
  e = resourceArray(x.allocated);
  if (e !== null) return at(e, 'allocated');
  if (x.gpus !== undefined) {
    e = resourceArray(x.gpus);
    if (e !== null) return at(e, 'gpus');
  }
  e = enumOf(x.condition, NODE_CONDITIONS);
  if (e !== null) return at(e, 'condition');
  e = nonNegInt(x.version);
  if (e !== null) return at(e, 'version');
  if (x.tasks !== undefined) {
    e = runningTasks(x.tasks);
    if (e !== null) return at(e, 'tasks');
  }
  return null;
}

/** A node's running tasks (sync with `tasks: true`). */
function runningTasks(x: unknown): R {
  const e = arr(x, 0, MAX_BATCH);
  if (e !== null) return e;
  const a = x as unknown[];
  for (let i = 0; i < a.length; i++) {
    const t = a[i];
    if (!isObj(t)) return at(invalidType('object', t), i);
    let f = id(t.taskId);
    if (f === null) f = id(t.jobId);
    if (f === null) f = resourceArray(t.demand);
    if (f === null) f = int(t.priority);
    if (f === null && (typeof t.queue !== 'string' || t.queue.length > 400)) f = invalidType('string', t.queue);
    if (f === null && typeof t.preemptible !== 'boolean') f = invalidType('boolean', t.preemptible);
    if (f === null && !(typeof t.startedAt === 'number' && Number.isFinite(t.startedAt))) f = invalidType('number', t.startedAt);
    if (f === null && t.gang !== undefined && typeof t.gang !== 'boolean') f = invalidType('boolean', t.gang);
    if (f !== null) return at(f, i);
  }
  return null;
}

function wireNodes(x: unknown): R {
  const e = arr(x, 0, Infinity);
  if (e !== null) return e;
  const a = x as unknown[];
  for (let i = 0; i < a.length; i++) {
    const f = wireNodeCheck(a[i]);
    if (f !== null) return at(f, i);
  }
  return null;
}

const SYNC_KINDS: readonly string[] = ['delta', 'snapshot'];

function partitionSyncCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = nonNegInt(x.partition);
  if (e !== null) return at(e, 'partition');
  e = nonNegInt(x.version);
  if (e !== null) return at(e, 'version');
  e = enumOf(x.kind, SYNC_KINDS);
  if (e !== null) return at(e, 'kind');
  e = wireNodes(x.nodes);
  if (e !== null) return at(e, 'nodes');
  return null;
}

function syncReplyCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = literalTrue(x.ok);
  if (e !== null) return at(e, 'ok');
  e = int(x.partitions);
  if (e === null && (x.partitions as number) <= 0) e = fail('Number must be greater than 0');
  if (e !== null) return at(e, 'partitions');
  const ss = x.syncs;
  e = arr(ss, 0, Infinity);
  if (e !== null) return at(e, 'syncs');
  const a = ss as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = partitionSyncCheck(a[i]);
    if (e !== null) return at(at(e, i), 'syncs');
  }
  if (x.queues !== undefined) {
    // Small (one vector per queue): checked by its zod schema.
    const q = wireQueueUsage.safeParse(x.queues);
    if (!q.success) return at(fail(`${q.error.issues[0].path.join('.')}: ${q.error.issues[0].message}`), 'queues');
  }
  return null;
}

// ---- commitRequest -------------------------------------------------------------------------
function constraintCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = str(x.label, 1, 200);
  if (e !== null) return at(e, 'label');
  e = enumOf(x.op, CONSTRAINT_OPS);
  if (e !== null) return at(e, 'op');
  const v = x.values;
  if (v !== undefined) {
    e = arr(v, 0, 1000);
    if (e !== null) return at(e, 'values');
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) {
      e = str(a[i], 0, 200);
      if (e !== null) return at(at(e, i), 'values');
    }
  }
  return null;
}

/** z.number().int().min(1) */
function positiveInt(x: unknown): R {
  const f = int(x);
  if (f !== null) return f;
  if ((x as number) < 1) return fail('Number must be greater than or equal to 1');
  return null;
}

/** wirePlacementRules' `{label, <count key>}` objects. */
function labelCount(x: unknown, key: string): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = str(x.label, 1, 200);
  if (e !== null) return at(e, 'label');
  e = positiveInt(x[key]);
  if (e !== null) return at(e, key);
  return null;
}

function jobRules(x: unknown): R {
  let e = arr(x, 0, 20);
  if (e !== null) return e;
  const a = x as unknown[];
  for (let i = 0; i < a.length; i++) {
    const r = a[i];
    if (!isObj(r)) return at(invalidType('object', r), i);
    e = id(r.job);
    if (e !== null) return at(at(e, 'job'), i);
    e = str(r.label, 1, 200);
    if (e !== null) return at(at(e, 'label'), i);
  }
  return null;
}

function rulesCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e: R;
  if (x.spread !== undefined && (e = labelCount(x.spread, 'maxSkew')) !== null) return at(e, 'spread');
  if (x.distinct !== undefined && (e = labelCount(x.distinct, 'limit')) !== null) return at(e, 'distinct');
  if (x.affinity !== undefined && (e = jobRules(x.affinity)) !== null) return at(e, 'affinity');
  if (x.antiAffinity !== undefined && (e = jobRules(x.antiAffinity)) !== null) return at(e, 'antiAffinity');
  return null;
}

function claimCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.taskId);
  if (e !== null) return at(e, 'taskId');
  e = id(x.jobId);
  if (e !== null) return at(e, 'jobId');
  e = id(x.nodeId);
  if (e !== null) return at(e, 'nodeId');
  e = resourceArray(x.demand);
  if (e !== null) return at(e, 'demand');
  e = nonNegInt(x.seenVersion);
  if (e !== null) return at(e, 'seenVersion');
  e = optionalDevices(x.devices);
  if (e !== null) return at(e, 'devices');
  if (x.queue !== undefined) {
    e = str(x.queue, 1, 600);
    if (e !== null) return at(e, 'queue');
  }
  if (x.preemptible !== undefined && typeof x.preemptible !== 'boolean') return at(invalidType('boolean', x.preemptible), 'preemptible');
  const cs = x.constraints;
  if (cs !== undefined) {
    e = arr(cs, 0, 100);
    if (e !== null) return at(e, 'constraints');
    const a = cs as unknown[];
    for (let i = 0; i < a.length; i++) {
      e = constraintCheck(a[i]);
      if (e !== null) return at(at(e, i), 'constraints');
    }
  }
  if (x.rules !== undefined) {
    e = rulesCheck(x.rules);
    if (e !== null) return at(e, 'rules');
  }
  return null;
}

function transactionCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.id);
  if (e !== null) return at(e, 'id');
  e = str(x.schedulerId, 1, 200);
  if (e !== null) return at(e, 'schedulerId');
  e = enumOf(x.kind, TXN_KINDS);
  if (e !== null) return at(e, 'kind');
  const cs = x.claims;
  e = arr(cs, 1, MAX_BATCH);
  if (e !== null) return at(e, 'claims');
  const a = cs as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = claimCheck(a[i]);
    if (e !== null) return at(at(e, i), 'claims');
  }
  const ev = x.evictions;
  if (ev !== undefined) {
    e = arr(ev, 0, MAX_BATCH);
    if (e !== null) return at(e, 'evictions');
    const b = ev as unknown[];
    for (let i = 0; i < b.length; i++) {
      e = evictionCheck(b[i]);
      if (e !== null) return at(at(e, i), 'evictions');
    }
  }
  return null;
}

function evictionCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.taskId);
  if (e !== null) return at(e, 'taskId');
  e = id(x.nodeId);
  if (e !== null) return at(e, 'nodeId');
  return null;
}

function commitRequestCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  const rs = x.resources;
  let e = arr(rs, 1, 64);
  if (e !== null) return at(e, 'resources');
  const r = rs as unknown[];
  for (let i = 0; i < r.length; i++) {
    e = str(r[i], 1, 64);
    if (e !== null) return at(at(e, i), 'resources');
  }
  const ts = x.txns;
  e = arr(ts, 1, 4096);
  if (e !== null) return at(e, 'txns');
  const a = ts as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = transactionCheck(a[i]);
    if (e !== null) return at(at(e, i), 'txns');
  }
  return null;
}

// ---- commitReply ---------------------------------------------------------------------------
function rejectedCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.taskId);
  if (e !== null) return at(e, 'taskId');
  e = id(x.nodeId);
  if (e !== null) return at(e, 'nodeId');
  e = typeof x.reason === 'string' ? null : invalidType('string', x.reason);
  if (e !== null) return at(e, 'reason');
  return null;
}

function txnResultCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = id(x.txnId);
  if (e !== null) return at(e, 'txnId');
  e = idArray(x.committed, Infinity);
  if (e !== null) return at(e, 'committed');
  const rj = x.rejected;
  e = arr(rj, 0, Infinity);
  if (e !== null) return at(e, 'rejected');
  const a = rj as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = rejectedCheck(a[i]);
    if (e !== null) return at(at(e, i), 'rejected');
  }
  e = wireNodes(x.nodes);
  if (e !== null) return at(e, 'nodes');
  e = int(x.seq);
  if (e !== null) return at(e, 'seq');
  if (x.replayed !== undefined && typeof x.replayed !== 'boolean') return at(invalidType('boolean', x.replayed), 'replayed');
  if (x.evicted !== undefined) {
    e = idArray(x.evicted, Infinity);
    if (e !== null) return at(e, 'evicted');
  }
  return null;
}

function commitReplyCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = literalTrue(x.ok);
  if (e !== null) return at(e, 'ok');
  const rs = x.results;
  e = arr(rs, 0, Infinity);
  if (e !== null) return at(e, 'results');
  const a = rs as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = txnResultCheck(a[i]);
    if (e !== null) return at(at(e, i), 'results');
  }
  return null;
}

// ---- jobSubmission / jobBatch --------------------------------------------------------------
/** z.number().finite() */
function finite(x: unknown): R {
  if (!isNum(x)) return invalidType('number', x);
  if (!Number.isFinite(x)) return fail('Number must be finite');
  return null;
}

/** z.record(z.string(), z.unknown()): any plain object (its keys are strings). */
function record(x: unknown): R {
  return isObj(x) ? null : invalidType('object', x);
}

function jobSubmissionCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  let e = record(x.job);
  if (e !== null) return at(e, 'job');
  e = finite(x.submittedAt);
  if (e !== null) return at(e, 'submittedAt');
  if (x.tasks !== undefined) {
    e = idArray(x.tasks, 200_000);
    if (e !== null) return at(e, 'tasks');
  }
  if (x.attempt !== undefined) {
    e = nonNegInt(x.attempt);
    if (e !== null) return at(e, 'attempt');
  }
  if (x.notBefore !== undefined) {
    e = finite(x.notBefore);
    if (e !== null) return at(e, 'notBefore');
  }
  return null;
}

function jobBatchCheck(x: unknown): R {
  if (!isObj(x)) return invalidType('object', x);
  const js = x.jobs;
  let e = arr(js, 1, MAX_JOBS_PER_MESSAGE);
  if (e !== null) return at(e, 'jobs');
  const a = js as unknown[];
  for (let i = 0; i < a.length; i++) {
    e = record(a[i]);
    if (e !== null) return at(at(e, i), 'jobs');
  }
  e = finite(x.submittedAt);
  if (e !== null) return at(e, 'submittedAt');
  return null;
}

// ---- exported validators -------------------------------------------------------------------
function result<T>(x: unknown, f: R): SafeParseResult<T> {
  return f === null ? { success: true, data: x as T } : { success: false, error: { issues: [f] } };
}

/** A plain `Validator` (no zod at all) for `check`. */
function plain<T>(check: (x: unknown) => R): Validator<T> {
  return { safeParse: (x) => result<T>(x, check(x)) };
}

/**
 * `check` as a zod schema, so it also fits code typed for zod schemas (`z.ZodTypeAny`), e.g.
 * cell-state's and the scheduler's request helpers. `safeParse` skips zod's machinery entirely
 * (the input is returned, not copied; a ZodError is only built on failure); `_parse` keeps it
 * usable inside other zod schemas.
 */
class FastSchema<T> extends z.ZodType<T, z.ZodTypeDef, unknown> {
  readonly #check: (x: unknown) => R;
  constructor(check: (x: unknown) => R) {
    super({});
    this.#check = check;
  }
  override _parse(input: z.ParseInput): z.ParseReturnType<T> {
    const f = this.#check(input.data);
    if (f === null) return { status: 'valid', value: input.data as T };
    z.addIssueToContext(this._getOrReturnCtx(input), { code: z.ZodIssueCode.custom, message: f.message, path: f.path });
    return z.INVALID;
  }
  override safeParse(x: unknown): z.SafeParseReturnType<unknown, T> {
    const f = this.#check(x);
    if (f === null) return { success: true, data: x as T };
    return { success: false, error: new z.ZodError([{ code: z.ZodIssueCode.custom, message: f.message, path: f.path }]) };
  }
}

function asZod<T>(check: (x: unknown) => R): z.ZodType<T, z.ZodTypeDef, unknown> {
  return new FastSchema<T>(check);
}

export const heartbeatRequestFast = asZod<HeartbeatRequest>(heartbeatRequestCheck);
export const assignMessageFast = asZod<AssignMessage>(assignMessageCheck);
export const taskEndedRequestFast = asZod<TaskEndedRequest>(taskEndedRequestCheck);
export const syncReplyFast = asZod<SyncReply>(syncReplyCheck);
export const commitRequestFast = asZod<CommitRequest>(commitRequestCheck);
export const commitReplyFast = asZod<CommitReply>(commitReplyCheck);
export const jobSubmissionFast = asZod<JobSubmission>(jobSubmissionCheck);
export const jobBatchFast = asZod<JobBatch>(jobBatchCheck);

/** The same checks as plain `Validator`s, without zod's per-call overhead. */
export const fastValidators = {
  heartbeatRequest: plain<HeartbeatRequest>(heartbeatRequestCheck),
  assignMessage: plain<AssignMessage>(assignMessageCheck),
  taskEndedRequest: plain<TaskEndedRequest>(taskEndedRequestCheck),
  syncReply: plain<SyncReply>(syncReplyCheck),
  commitRequest: plain<CommitRequest>(commitRequestCheck),
  commitReply: plain<CommitReply>(commitReplyCheck),
  jobSubmission: plain<JobSubmission>(jobSubmissionCheck),
  jobBatch: plain<JobBatch>(jobBatchCheck),
} as const;
