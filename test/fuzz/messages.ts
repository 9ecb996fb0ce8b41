/**
 * fast-check generators of hostile messages for every request subject cell-state and the
 * schedulers serve: valid ones (per subject), and from them mutated (a field dropped, added,
 * or given an out-of-range value), truncated, oversized and type-confused ones (a field's value
 * of another type). Each message is classified by the subject's own validator, so the fuzz run
 * knows which ones must be refused without changing anything.
 */
import { encode as msgpackEncode } from '@msgpack/msgpack';
import fc from 'fast-check';
import {
  commitRequestFast, decodeAs, explainRequest, heartbeatRequestFast, NODE_ADMIN_OPS, nodeAdminRequest, jobOutcomeRequest, listingRequest, modeControl, PLACEMENT_MODE_NAMES,
  registerRequest, syncRequest, taskEndedRequestFast, type Subjects, type Validator,
} from '@tessera/protocol';
import type { z } from 'zod';
import { parseModeValue } from '../../services/scheduler/src/core/mode-value.ts';

/** msgpack with 64-bit integers (a type confusion may put a bigint anywhere). */
export const encode = (v: unknown): Uint8Array => msgpackEncode(v, { useBigInt64: true });

/** The scheduler's limit on a mode value (mode-value.ts). */
const MODE_MAX_BYTES = 1024;

export const FUZZ_AGENT = 'fuzz-agent';
export const FUZZ_RESOURCES = ['cpu_millis', 'mem_mib', 'gpu'] as const;

export type Kind = 'valid' | 'mutated' | 'truncated' | 'oversized' | 'type-confused';

export interface FuzzSubject {
  readonly name: string;
  readonly subject: string;
  readonly schema: z.ZodTypeAny | Validator<unknown>;
  /** Valid messages change nothing (listings, syncs): they may be sent too. */
  readonly readOnly: boolean;
  readonly valid: fc.Arbitrary<unknown>;
  /** Who serves it. */
  readonly server: 'cell-state' | 'scheduler';
  /** The server's size limit for this subject. */
  readonly maxBytes: number;
  /** Whether the server takes these bytes as valid (default: `schema` after msgpack decoding). */
  readonly accepts?: (bytes: Uint8Array) => boolean;
}

const idArb = fc.stringMatching(/^[a-z0-9/_-]{1,24}$/);
const nodeId = fc.constantFrom('n0', 'n1', 'n2', 'n3', 'fz-9');
const taskId = fc.constantFrom('fz/t/0', 'fz/t/1', 'other/t/0');
const capacity = fc.record({ cpu_millis: fc.nat(100_000), mem_mib: fc.nat(100_000), gpu: fc.nat(8) }, { requiredKeys: [] });

/** `cellStateMaxBytes`: the cell-state's --max-message-bytes. */
export function fuzzSubjects(s: Subjects, cellStateMaxBytes: number): FuzzSubject[] {
  const maxBytes = cellStateMaxBytes;
  const claim = fc.record({ taskId, jobId: fc.constant('fz'), nodeId, demand: fc.tuple(fc.nat(5000), fc.nat(5000), fc.nat(2)), seenVersion: fc.nat(100) });
  const txn = fc.record({ id: idArb, schedulerId: fc.constant('fuzz'), kind: fc.constantFrom('incremental', 'all-or-nothing'), claims: fc.array(claim, { minLength: 1, maxLength: 4 }) });
  const listing = fc.record({ offset: fc.nat(50), limit: fc.integer({ min: 1, max: 50 }), ids: fc.option(fc.array(nodeId, { maxLength: 3 }), { nil: undefined }) }, { requiredKeys: ['offset', 'limit'] });
  return [
    { name: 'node.register', subject: s.nodeRegister(FUZZ_AGENT), schema: registerRequest, readOnly: false, server: 'cell-state', maxBytes,
      valid: fc.record({ agent: fc.constant(FUZZ_AGENT), nodes: fc.array(fc.record({ id: nodeId, labels: fc.dictionary(fc.constantFrom('zone', 'rack'), fc.constantFrom('a', 'b')), capacity }), { minLength: 1, maxLength: 3 }) }) },
    { name: 'node.heartbeat', subject: s.nodeHeartbeat(FUZZ_AGENT), schema: heartbeatRequestFast, readOnly: false, server: 'cell-state', maxBytes,
      valid: fc.record({ agent: fc.constant(FUZZ_AGENT), nodes: fc.array(fc.record({ id: nodeId, tasks: fc.array(taskId, { maxLength: 2 }) }), { minLength: 1, maxLength: 3 }) }) },
    { name: 'task.ended', subject: s.taskEnded(FUZZ_AGENT), schema: taskEndedRequestFast, readOnly: false, server: 'cell-state', maxBytes,
      valid: fc.record({ agent: fc.constant(FUZZ_AGENT), tasks: fc.array(fc.record({ taskId, nodeId, outcome: fc.constantFrom('succeeded', 'failed') }), { minLength: 1, maxLength: 3 }) }) },
    { name: 'sync', subject: s.sync, schema: syncRequest, readOnly: true, server: 'cell-state', maxBytes,
      valid: fc.record({ resources: fc.constant([...FUZZ_RESOURCES]), requests: fc.array(fc.record({ partition: fc.nat(3), since: fc.integer({ min: -1, max: 50 }) }), { minLength: 1, maxLength: 4 }) }) },
    { name: 'commit', subject: s.commit, schema: commitRequestFast, readOnly: false, server: 'cell-state', maxBytes,
      valid: fc.record({ resources: fc.constant([...FUZZ_RESOURCES]), txns: fc.array(txn, { minLength: 1, maxLength: 3 }) }) },
    { name: 'job.outcome', subject: s.jobOutcome, schema: jobOutcomeRequest, readOnly: false, server: 'cell-state', maxBytes,
      valid: fc.record({ jobId: fc.constantFrom('fz', 'nope'), schedulerId: fc.constant('fuzz'), state: fc.constantFrom('unschedulable', 'failed'), reason: fc.string({ minLength: 1, maxLength: 20 }) }) },
    { name: 'query.jobs', subject: s.queryJobs, schema: listingRequest, readOnly: true, server: 'cell-state', maxBytes, valid: listing },
    { name: 'query.nodes', subject: s.queryNodes, schema: listingRequest, readOnly: true, server: 'cell-state', maxBytes, valid: listing },
    { name: 'query.partitions', subject: s.queryPartitions, schema: listingRequest, readOnly: true, server: 'cell-state', maxBytes, valid: listing },
    { name: 'query.explain', subject: s.queryExplain, schema: explainRequest, readOnly: true, server: 'cell-state', maxBytes,
      valid: fc.record({ job: fc.constantFrom('fz', 'other', 'nope') }) },
    { name: 'admin.node', subject: s.nodeAdmin, schema: nodeAdminRequest, readOnly: false, server: 'cell-state', maxBytes,
      valid: fc.record({ op: fc.constantFrom(...NODE_ADMIN_OPS), nodes: fc.array(nodeId, { minLength: 1, maxLength: 3 }), deadlineS: fc.option(fc.nat(60), { nil: undefined }) }, { requiredKeys: ['op', 'nodes'] }) },
    // The scheduler also takes a bare mode name or JSON {"mode"} (services/scheduler/src/core/mode-value.ts).
    { name: 'control.mode', subject: s.controlMode, schema: modeControl, readOnly: false, server: 'scheduler', maxBytes: MODE_MAX_BYTES,
      valid: fc.record({ mode: fc.constantFrom(...PLACEMENT_MODE_NAMES) }), accepts: (b) => parseModeValue(b).ok },
  ];
}

/** A value of another type than `v` (the type confusion). */
function confusedArb(v: unknown): fc.Arbitrary<unknown> {
  const all: fc.Arbitrary<unknown>[] = [
    fc.integer(), fc.double(), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.string({ maxLength: 30 }), fc.boolean(), fc.constant(null),
    fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }), fc.uint8Array({ maxLength: 8 }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  ];
  const t = Array.isArray(v) ? 'array' : v === null ? 'null' : v instanceof Uint8Array ? 'bytes' : typeof v;
  const names = ['number', 'number', 'number', 'number', 'string', 'boolean', 'null', 'array', 'object', 'bytes', 'bigint'];
  return fc.oneof(...all.filter((_, i) => names[i] !== t));
}

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function getAt(v: unknown, p: Path): unknown {
  let x = v;
  for (const k of p) x = (x as Record<string | number, unknown>)[k];
  return x;
}

function setAt(v: unknown, p: Path, value: unknown, del = false): unknown {
  if (p.length === 0) return value;
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let x = copy;
  for (const k of p.slice(0, -1)) x = x[k] as Record<string | number, unknown>;
  const last = p[p.length - 1];
  if (del) {
    if (Array.isArray(x)) x.splice(last as number, 1);
    else delete x[last];
  } else {
    x[last] = value;
  }
  return copy;
}

const outOfRange = fc.oneof(
  fc.constant(-1), fc.constant(-1e300), fc.constant(2 ** 53 + 1), fc.constant(1e308), fc.constant(''), fc.constant('x'.repeat(5_000)),
  fc.constant('*'), fc.constant('a.b'), fc.constant('>'), fc.constant(' spaces '), fc.constant([]), fc.constant({}), fc.constant('\u0000'),
  fc.constant(Array.from({ length: 70_000 }, () => 1)),
);

/** One hostile message of `kind`, as the bytes to send. */
export function hostile(sub: FuzzSubject, kind: Exclude<Kind, 'valid'>): fc.Arbitrary<Uint8Array> {
  const maxBytes = sub.maxBytes;
  switch (kind) {
    case 'truncated':
      return sub.valid.chain((v) => {
        const bytes = encode(v);
        return fc.nat(Math.max(0, bytes.length - 1)).map((n) => bytes.subarray(0, n));
      });
    case 'oversized':
      return fc.integer({ min: maxBytes + 1, max: maxBytes + 4096 }).chain((n) => sub.valid.map((v) => encode({ ...(v as object), pad: 'x'.repeat(n) })));
    case 'type-confused':
      return sub.valid.chain((v) => {
        const ps = paths(v);
        return fc.nat(ps.length - 1).chain((i) => confusedArb(getAt(v, ps[i])).map((c) => encode(setAt(v, ps[i], c))));
      });
    case 'mutated':
      return sub.valid.chain((v) => {
        const ps = paths(v).filter((p) => p.length > 0);
        return fc.tuple(fc.nat(Math.max(0, ps.length - 1)), fc.integer({ min: 0, max: 3 }), outOfRange, fc.string({ minLength: 1, maxLength: 8 })).map(([i, op, bad, key]) => {
          const p = ps[i] ?? [];
          if (op === 0) return encode(setAt(v, p, undefined, true));
          if (op === 1) return encode(setAt(v, p, bad));
          if (op === 2) return encode({ ...(v as object), [`x${key}`]: bad });
          // Byte-level: flip one byte of the encoding.
          const b = encode(v).slice();
          b[(i * 7919) % b.length] ^= 1 + (key.charCodeAt(0) % 255);
          return b;
        });
      });
  }
}

/** Whether the subject's own validator accepts these bytes (then the message is valid after all). */
export function acceptedBy(sub: FuzzSubject, bytes: Uint8Array): boolean {
  return sub.accepts !== undefined ? sub.accepts(bytes) : decodeAs(bytes, sub.schema, sub.maxBytes).ok;
}
