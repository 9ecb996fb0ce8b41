/**
 * Job files as `tessera submit` reads them, pure: the text of a JSON, YAML or JSON-Lines file →
 * the job documents it holds, each with the path prefix an error message uses, then validation of
 * EVERY job with core's `validateJobSpec` before anything is submitted.
 *
 * Accepted layouts: one job object; an array of jobs; `{ jobs: [...] }`; several YAML documents
 * (`---`); JSON Lines (one job per line). Errors name the bad field, e.g.
 * `jobs[3].tasks[0].resources.cpu_millis: must be a finite number ≥ 0`.
 */
import { validateJobSpec, type JobSpec, type ResourceSpace } from '@tessera/core';
import { parseAllDocuments } from 'yaml';

export type JobFileLayout = 'json' | 'yaml' | 'jsonl';

/** One job document and where it sits in the file (`jobs[3]`, `line 4`, or '' for a lone job). */
export interface JobDocument {
  readonly where: string;
  readonly value: unknown;
}

export interface JobFileProblem {
  /** Full path of the bad field, e.g. `jobs[3].tasks[0].resources.cpu_millis` or `line 4`. */
  readonly path: string;
  readonly message: string;
}

export type JobFileResult =
  | { readonly ok: true; readonly jobs: JobSpec[] }
  | { readonly ok: false; readonly problems: JobFileProblem[] };

/** The layout from the file name (`.gz` ignored); undefined = guess from the content. */
export function layoutOf(fileName: string): JobFileLayout | undefined {
  const name = fileName.toLowerCase().replace(/\.gz$/, '');
  if (/\.(jsonl|ndjson)$/.test(name)) return 'jsonl';
  if (name.endsWith('.json')) return 'json';
  if (/\.ya?ml$/.test(name)) return 'yaml';
  return undefined;
}

function join(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '(root)' || path === '') return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/** A parsed top-level value → its job documents. */
function documentsOf(top: unknown, many: boolean): JobDocument[] | JobFileProblem {
  if (Array.isArray(top)) return top.map((value, i) => ({ where: `jobs[${i}]`, value }));
  if (top !== null && typeof top === 'object' && !('tasks' in top) && 'jobs' in top) {
    const jobs = (top as { jobs: unknown }).jobs;
    if (!Array.isArray(jobs)) return { path: 'jobs', message: 'must be a list of jobs' };
    return jobs.map((value, i) => ({ where: `jobs[${i}]`, value }));
  }
  return [{ where: many ? 'jobs[0]' : '', value: top }];
}

/** Splits file text into job documents; a syntax error is a problem with a line number. */
export function parseJobFile(text: string, layout: JobFileLayout | undefined): JobDocument[] | JobFileProblem {
  const kind = layout ?? (/^\s*[[{]/.test(text) ? (/^\s*\{[^\n]*\}\s*\n\s*\{/.test(text) ? 'jsonl' : 'json') : 'yaml');
  if (kind === 'jsonl') {
    const out: JobDocument[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '') continue;
      try {
        out.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
      } catch (e) {
        return { path: `line ${i + 1}`, message: `not valid JSON (${(e as Error).message})` };
      }
    }
    if (out.length === 0) return { path: '(file)', message: 'no jobs in the file' };
    return out;
  }
  if (kind === 'json') {
    try {
      return documentsOf(JSON.parse(text), false);
    } catch (e) {
      return { path: '(file)', message: `not valid JSON (${(e as Error).message})` };
    }
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const nonEmpty = list.filter((d) => d.contents !== null || d.errors.length > 0);
  if (nonEmpty.length === 0) return { path: '(file)', message: 'no jobs in the file' };
  for (let i = 0; i < nonEmpty.length; i++) {
    const err = nonEmpty[i].errors[0];
    if (err !== undefined) {
      const line = err.linePos?.[0]?.line;
      return { path: line !== undefined ? `line ${line}` : '(file)', message: `not valid YAML (${err.message.split('\n')[0]})` };
    }
  }
  if (nonEmpty.length === 1) return documentsOf(nonEmpty[0].toJS(), false);
  return nonEmpty.map((d, i) => ({ where: `jobs[${i}]`, value: d.toJS() as unknown }));
}

/** Validates every document; duplicate job ids in one file are a problem too. */
export function validateJobDocuments(docs: readonly JobDocument[], space: ResourceSpace): JobFileResult {
  const problems: JobFileProblem[] = [];
  const jobs: JobSpec[] = [];
  const firstSeen = new Map<string, string>();
  for (const d of docs) {
    const v = validateJobSpec(d.value, space);
    if (!v.ok) {
      problems.push({ path: join(d.where, v.error.path), message: v.error.message });
      continue;
    }
    const prior = firstSeen.get(v.job.id);
    if (prior !== undefined) {
      problems.push({ path: join(d.where, 'id'), message: `duplicate job id "${v.job.id}" (also at ${prior || 'the first job'})` });
      continue;
    }
    firstSeen.set(v.job.id, d.where);
    jobs.push(v.job);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, jobs };
}

/** The whole pipeline for one file's text. */
export function readJobFileText(text: string, fileName: string, space: ResourceSpace): JobFileResult {
  const docs = parseJobFile(text, layoutOf(fileName));
  if (!Array.isArray(docs)) return { ok: false, problems: [docs] };
  if (docs.length === 0) return { ok: false, problems: [{ path: '(file)', message: 'no jobs in the file' }] };
  return validateJobDocuments(docs, space);
}

/** One line for the user: the first problem, and how many more there are. */
export function describeProblems(fileName: string, problems: readonly JobFileProblem[]): string {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
  return `${fileName}: ${first.path}: ${first.message}${more}; nothing was submitted`;
}
