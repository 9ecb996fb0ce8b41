/**
 * The console's jobs table: the newest jobs (or those matching a search), one row each with its
 * state, reason and tasks per state — never the tasks themselves (`taskLimit: 0`), so a row costs
 * the same for a job of 1 task or 200,000.
 */
import type { JobListing } from '@tessera/protocol';

export interface JobRow {
  readonly id: string;
  readonly tenant: string;
  readonly state: string;
  readonly reason?: string;
  readonly tasks: number;
  readonly taskStates: Readonly<Record<string, number>>;
  readonly submittedAt?: number;
}

export type JobPageReader = (req: { offset: number; limit: number; ids?: string[] }) => Promise<{ total: number; items: JobListing[] }>;

/** How many of the newest jobs a search looks through. */
export const SEARCH_WINDOW = 5_000;

const rowOf = (j: JobListing): JobRow => ({
  id: j.id, tenant: j.tenant, state: j.state, reason: j.reason, tasks: j.taskTotal ?? j.tasks.length,
  taskStates: j.taskStates ?? {}, submittedAt: j.submittedAt,
});

export function matches(row: JobRow, q: string): boolean {
  if (q === '') return true;
  const needle = q.toLowerCase();
  return [row.id, row.tenant, row.state, row.reason ?? ''].some((s) => s.toLowerCase().includes(needle));
}

/** Newest first; `q` matches id, tenant, state or reason (an exact id is found however old). */
export async function jobRows(read: JobPageReader, q: string, limit: number): Promise<{ total: number; rows: JobRow[] }> {
  const want = Math.max(1, Math.min(Number.isFinite(limit) ? limit : 100, 1000));
  const exact = q !== '' ? (await read({ offset: 0, limit: 1, ids: [q] })).items.map(rowOf) : [];
  const head = await read({ offset: 0, limit: 1 });
  const total = head.total;
  const rows: JobRow[] = [...exact];
  const seen = new Set(exact.map((r) => r.id));
  const floor = Math.max(0, total - (q === '' ? want : SEARCH_WINDOW));
  for (let end = total; end > floor && rows.length < want; end -= 500) {
    const offset = Math.max(floor, end - 500);
    const page = await read({ offset, limit: end - offset });
    for (const j of page.items.reverse()) {
      const r = rowOf(j);
      if (!seen.has(r.id) && matches(r, q)) { rows.push(r); seen.add(r.id); }
      if (rows.length >= want) break;
    }
  }
  return { total, rows };
}
