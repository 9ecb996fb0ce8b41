/**
 * The queue file (DESIGN §10), YAML or JSON: `{ queues: [{ name, weight?, guaranteed?, max?, queues? }] }`.
 * Validated whole: the first bad field is reported with its path (`queues[0].queues[1].guaranteed.cpu_millis`)
 * and nothing of the file is used. `default` always exists.
 */
import { z } from 'zod';
import { addInto, isResourceError, type ResourceSpace, type ResourceVector } from '../resources.ts';
import { DEFAULT_QUEUE, QueueTree, leaf, unbounded, type QueueNode } from './tree.ts';

export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_QUEUE_DEPTH = 8;

export interface QueueSpec {
  readonly name: string;
  readonly weight?: number;
  readonly guaranteed?: Readonly<Record<string, number>>;
  readonly max?: Readonly<Record<string, number>>;
  readonly queues?: readonly QueueSpec[];
}

export interface QueueFile {
  readonly queues: readonly QueueSpec[];
}

const queueSpec: z.ZodType<QueueSpec> = z.lazy(() =>
  z.object({
    name: z.string().regex(QUEUE_NAME, 'must be 1-64 of A-Z a-z 0-9 _ -'),
    weight: z.number().finite().min(0).max(1_000_000).optional(),
    guaranteed: z.record(z.string(), z.number()).optional(),
    max: z.record(z.string(), z.number()).optional(),
    queues: z.array(queueSpec).max(1000).optional(),
  }).strict());

export const queueFileSchema = z.object({ queues: z.array(queueSpec).max(1000) }).strict();

export interface QueueFileError {
  readonly path: string;
  readonly message: string;
}

export type QueueFileResult = { ok: true; tree: QueueTree; file: QueueFile } | { ok: false; error: QueueFileError };

function pathOf(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '(root)';
}

class Refused {
  constructor(readonly error: QueueFileError) {}
}

/**
 * Validates a queue file and builds its tree. `cellCapacity` (when known) bounds the top level's
 * guaranteed; a child's guaranteed quotas together must fit in its parent's; a guaranteed must
 * not exceed its own max. Never throws on user input.
 */
export function parseQueueFile(input: unknown, space: ResourceSpace, cellCapacity?: ResourceVector): QueueFileResult {
  const parsed = queueFileSchema.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { ok: false, error: { path: pathOf(i.path), message: i.message } };
  }
  const file = parsed.data as QueueFile;
  try {
    const roots = build(space, file.queues, undefined, 'queues', 1);
    if (cellCapacity !== undefined) checkSum(space, roots, cellCapacity, 'queues', 'the cell\'s capacity');
    if (!roots.some((r) => r.name === DEFAULT_QUEUE)) roots.push(leaf(space, DEFAULT_QUEUE));
    return { ok: true, tree: new QueueTree(space, roots), file };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, error: e.error };
    throw e;
  }
}

function vectorOf(space: ResourceSpace, rec: Readonly<Record<string, number>> | undefined, path: string, missing: number): ResourceVector {
  if (rec === undefined) return missing === 0 ? space.zero() : unbounded(space);
  const v = space.parse(rec, path);
  if (isResourceError(v)) throw new Refused(v);
  if (missing !== 0) for (let i = 0; i < v.length; i++) if (!Object.hasOwn(rec, space.names[i])) v[i] = missing;
  return v;
}

function build(space: ResourceSpace, specs: readonly QueueSpec[], parent: string | undefined, at: string, depth: number): QueueNode[] {
  if (depth > MAX_QUEUE_DEPTH) throw new Refused({ path: at, message: `queues nest at most ${MAX_QUEUE_DEPTH} deep` });
  const seen = new Set<string>();
  return specs.map((s, i) => {
    const p = `${at}[${i}]`;
    if (seen.has(s.name)) throw new Refused({ path: `${p}.name`, message: `duplicate queue name "${s.name}"` });
    seen.add(s.name);
    const path = parent === undefined ? s.name : `${parent}.${s.name}`;
    if (path === DEFAULT_QUEUE && s.queues !== undefined && s.queues.length > 0) throw new Refused({ path: `${p}.queues`, message: 'the default queue is a leaf' });
    const guaranteed = vectorOf(space, s.guaranteed, `${p}.guaranteed`, 0);
    const max = vectorOf(space, s.max, `${p}.max`, Infinity);
    for (let k = 0; k < space.size; k++) {
      if (guaranteed[k] > max[k]) throw new Refused({ path: `${p}.guaranteed.${space.names[k]}`, message: `guaranteed ${guaranteed[k]} exceeds the queue's max ${max[k]}` });
    }
    const children = build(space, s.queues ?? [], path, `${p}.queues`, depth + 1);
    checkSum(space, children, guaranteed, `${p}.queues`, `the guaranteed of "${path}"`);
    return { path, name: s.name, parent, weight: s.weight ?? 1, guaranteed, max, children };
  });
}

/** The guaranteed quotas of `nodes` together fit in `bound`, else the first node that makes them not fit is refused. */
function checkSum(space: ResourceSpace, nodes: readonly QueueNode[], bound: ResourceVector, at: string, what: string): void {
  const sum = space.zero();
  nodes.forEach((n, i) => {
    addInto(sum, n.guaranteed);
    for (let k = 0; k < space.size; k++) {
      if (sum[k] > bound[k]) {
        throw new Refused({ path: `${at}[${i}].guaranteed.${space.names[k]}`, message: `guaranteed ${space.names[k]} of the queues at this level (${sum[k]}) exceeds ${what} (${bound[k]})` });
      }
    }
  });
}
