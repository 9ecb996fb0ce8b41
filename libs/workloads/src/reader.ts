/**
 * Streaming trace files → {@link TraceJob}s in submit order.
 *
 * - `.jsonl`, `.ndjson` and any other name: JSON Lines, read line by line (node:readline), so the
 *   full traces never sit in memory whole.
 * - `.json`, `.yaml`, `.yml`: one document (YAML: one or more `---` documents) holding one record or
 *   an array of records, parsed whole with the `yaml` package (JSON with JSON.parse).
 * - gzip is recognized by its magic bytes, whatever the name (`x.jsonl.gz`, `x.json.gz`, …).
 *
 * Bad records are skipped and counted in `stats` (see SKIP_REASONS); only I/O faults (a missing
 * file, a truncated gzip) throw, as {@link TraceReadError}.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { convertRecord, type ConvertContext, type ConvertResult } from './convert.ts';
import { SKIP_REASONS, emptyTraceStats, type SkipExample, type SkipReason, type TraceJob, type TraceStats } from './types.ts';

export class TraceReadError extends Error {
  override readonly name = 'TraceReadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ReadTraceOptions extends ConvertContext {
  /**
   * `strict` (default): stream; a record earlier than one already yielded is skipped as
   * `out_of_order` (the bundled traces are sorted, so none is). `sort`: read everything, then
   * yield stably sorted by submit time. JSON/YAML documents are always sorted (they are in memory).
   */
  readonly order?: 'strict' | 'sort';
  /** Stop after this many jobs. */
  readonly limit?: number;
  /** How many skip examples to keep in `stats.examples` (default 20). */
  readonly maxExamples?: number;
}

/** A parsed record or the reason it could not be parsed, with its 1-based position. */
export interface SourceRecord {
  readonly n: number;
  readonly value?: unknown;
  readonly parseError?: string;
}

export type FileLayout = 'lines' | 'document';

/** How a file is laid out, from its name (a trailing `.gz` is ignored). */
export function fileLayout(path: string): FileLayout {
  const name = path.toLowerCase().replace(/\.gz$/, '');
  return /\.(json|ya?ml)$/.test(name) ? 'document' : 'lines';
}

export async function isGzipFile(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } catch (e) {
    throw new TraceReadError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh?.close();
  }
}

/** The non-empty lines of a (possibly gzipped) text file, with their 1-based line numbers. */
export async function* fileLines(path: string): AsyncGenerator<{ n: number; line: string }> {
  const gz = await isGzipFile(path);
  const file = createReadStream(path);
  let input: NodeJS.ReadableStream & { destroy(error?: Error): void } = file;
  if (gz) {
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    input = file.pipe(gunzip);
  }
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.trim().length > 0) yield { n, line };
    }
  } catch (e) {
    throw new TraceReadError(`reading ${path} failed after line ${n}: ${(e as Error).message}`, { cause: e });
  } finally {
    rl.close();
    file.destroy();
    if (gz) input.destroy();
  }
}

/** JSON Lines → records. A line that is not JSON becomes a record with a parse error. */
export async function* jsonLineRecords(lines: AsyncIterable<{ n: number; line: string }> | Iterable<{ n: number; line: string }>): AsyncGenerator<SourceRecord> {
  for await (const { n, line } of lines) {
    try {
      yield { n, value: JSON.parse(line) as unknown };
    } catch (e) {
      yield { n, parseError: `line ${n} is not JSON: ${(e as Error).message}` };
    }
  }
}

/**
 * A JSON or YAML document → records: an array gives one record per element, anything else one
 * record. YAML files may hold several `---` documents. A document that does not parse is one
 * record with a parse error.
 */
export function documentRecords(text: string, json: boolean): SourceRecord[] {
  const out: SourceRecord[] = [];
  const push = (v: unknown) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) for (const x of v) out.push({ n: out.length + 1, value: x as unknown });
    else out.push({ n: out.length + 1, value: v });
  };
  if (json) {
    try {
      push(JSON.parse(text));
    } catch (e) {
      out.push({ n: 1, parseError: `not JSON: ${(e as Error).message}` });
    }
    return out;
  }
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      out.push({ n: out.length + 1, parseError: `not YAML: ${doc.errors[0].message}` });
      continue;
    }
    push(doc.toJS());
  }
  return out;
}

async function documentText(path: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
    if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  } catch (e) {
    throw new TraceReadError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return buf.toString('utf8');
}

/** The records of any supported file, by its layout. */
export async function* fileRecords(path: string): AsyncGenerator<SourceRecord> {
  const layout = fileLayout(path);
  if (layout === 'lines') {
    yield* jsonLineRecords(fileLines(path));
    return;
  }
  const text = await documentText(path);
  yield* documentRecords(text, /\.json$/i.test(path.replace(/\.gz$/i, '')));
}

/** Counts skips and keeps the first few examples. */
export class SkipTally {
  constructor(
    private readonly stats: TraceStats,
    private readonly maxExamples: number,
  ) {}

  example(line: number, reason: SkipReason, message: string): void {
    if (this.stats.examples.length < this.maxExamples) this.stats.examples.push({ line, reason, message } satisfies SkipExample);
  }

  job(line: number, reason: SkipReason, message: string): void {
    this.stats.skippedJobs[reason] = (this.stats.skippedJobs[reason] ?? 0) + 1;
    this.example(line, reason, message);
  }

  groups(line: number, res: ConvertResult): void {
    for (const g of res.skippedGroups) {
      this.stats.skippedTaskGroups[g.reason] = (this.stats.skippedTaskGroups[g.reason] ?? 0) + 1;
      this.stats.skippedTasks += g.tasks;
      this.example(line, g.reason, g.message);
    }
  }
}

interface Converted {
  readonly n: number;
  readonly res: Extract<ConvertResult, { ok: true }>;
}

/**
 * The jobs of a record source, converted, validated, counted and in submit order. Iterate it
 * with `for await`; `stats` is complete once the loop ends (and is reset if iterated again).
 */
export class TraceReader implements AsyncIterable<TraceJob> {
  readonly stats: TraceStats = emptyTraceStats();

  constructor(
    private readonly source: () => AsyncIterable<SourceRecord>,
    private readonly options: ReadTraceOptions & { readonly alwaysSort?: boolean } = {},
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<TraceJob> {
    Object.assign(this.stats, emptyTraceStats());
    const tally = new SkipTally(this.stats, this.options.maxExamples ?? 20);
    const limit = this.options.limit ?? Infinity;
    const sort = this.options.order === 'sort' || this.options.alwaysSort === true;
    if (limit <= 0) return;
    const held: Converted[] = [];
    let last = -Infinity;
    for await (const c of this.convertAll(tally)) {
      if (sort) {
        held.push(c);
        continue;
      }
      if (c.res.job.submitS < last) {
        tally.job(c.n, SKIP_REASONS.outOfOrder, `submit_s ${c.res.job.submitS} < ${last} of an earlier record (use order: 'sort')`);
        continue;
      }
      last = c.res.job.submitS;
      this.count(c.res);
      yield c.res.job;
      if (this.stats.jobs >= limit) return;
    }
    if (!sort) return;
    held.sort((a, b) => a.res.job.submitS - b.res.job.submitS || a.n - b.n);
    for (const c of held) {
      this.count(c.res);
      yield c.res.job;
      if (this.stats.jobs >= limit) return;
    }
  }

  private async *convertAll(tally: SkipTally): AsyncGenerator<Converted> {
    for await (const r of this.source()) {
      this.stats.records++;
      if (r.parseError !== undefined) {
        tally.job(r.n, SKIP_REASONS.unparsable, r.parseError);
        continue;
      }
      const res = convertRecord(r.value, this.options);
      tally.groups(r.n, res);
      if (!res.ok) {
        tally.job(r.n, res.reason, res.message);
        continue;
      }
      yield { n: r.n, res };
    }
  }

  private count(res: Converted['res']): void {
    const s = this.stats;
    s.jobs++;
    s.formats[res.job.format] = (s.formats[res.job.format] ?? 0) + 1;
    s.taskGroups += res.job.job.tasks.length;
    for (const g of res.job.job.tasks) s.tasks += g.count;
    s.tasksWithoutDuration += res.tasksWithoutDuration;
    s.tasksRightCensored += res.tasksRightCensored;
  }
}

/** Streams a trace or job-spec file (see the module comment for the formats). */
export function readTrace(path: string, options: ReadTraceOptions = {}): TraceReader {
  return new TraceReader(() => fileRecords(path), { ...options, alwaysSort: fileLayout(path) === 'document' });
}

/** Records already in memory or from any stream (e.g. the CLI's stdin), read like a file's. */
export function readRecords(records: Iterable<unknown> | AsyncIterable<unknown>, options: ReadTraceOptions = {}): TraceReader {
  return new TraceReader(async function* () {
    let n = 0;
    for await (const value of records) yield { n: ++n, value };
  }, options);
}

/** The whole trace in memory, with its stats. */
export async function loadTrace(path: string, options: ReadTraceOptions = {}): Promise<{ jobs: TraceJob[]; stats: TraceStats }> {
  const reader = readTrace(path, options);
  const jobs: TraceJob[] = [];
  for await (const j of reader) jobs.push(j);
  return { jobs, stats: reader.stats };
}
