/**
 * The last entries of the commit log (the JetStream stream cell-state appends to), summarized one
 * line per record for the console. Read-only: direct message gets by sequence. Records are read
 * generically (their `t` and the sizes of their lists), so a newer record kind shows by its name.
 */
import { decode } from '@msgpack/msgpack';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from '@tessera/protocol';

export interface LogTailEntry {
  readonly seq: number;
  readonly at?: number;
  readonly writer?: string;
  readonly records: readonly string[];
}

const count = (v: unknown) => (Array.isArray(v) ? v.length : undefined);

/** One line for one record, e.g. `commit 12 claims in 3 txns`, `register 200 nodes (agent-0)`. */
export function summarizeRecord(r: unknown): string {
  if (typeof r !== 'object' || r === null) return 'unreadable record';
  const rec = r as Record<string, unknown>;
  const t = typeof rec.t === 'string' ? rec.t : '?';
  const who = typeof rec.agent === 'string' ? ` (${rec.agent})` : '';
  switch (t) {
    case 'commit': return `commit ${count(rec.task) ?? 0} claims in ${count(rec.txns) ?? 0} txns`;
    case 'register': return `register ${count(rec.nodes) ?? 0} nodes${who}`;
    case 'lost': return `lost ${count(rec.nodes) ?? 0} nodes`;
    case 'ended': return `ended ${count(rec.tasks) ?? 0} tasks${who}`;
    case 'running': return `running ${count(rec.tasks) ?? 0} tasks${who}`;
    case 'job': return `job ${String(rec.id ?? '?')}${typeof rec.tenant === 'string' ? ` (${rec.tenant})` : ''}`;
    default: {
      const lists = Object.entries(rec).filter(([, v]) => Array.isArray(v)).map(([k, v]) => `${(v as unknown[]).length} ${k}`);
      const id = typeof rec.id === 'string' ? ` ${rec.id}` : typeof rec.node === 'string' ? ` ${rec.node}` : '';
      return `${t}${id}${lists.length > 0 ? ` ${lists.join(', ')}` : ''}${who}`;
    }
  }
}

export function summarizeEntry(seq: number, data: Uint8Array): LogTailEntry {
  try {
    let e = decode(data) as { at?: unknown; writer?: unknown; records?: unknown; body?: unknown };
    // Hash-chained entries (format 2) hold the entry as a msgpack `body`.
    if (e.body instanceof Uint8Array) e = decode(e.body) as typeof e;
    const records = Array.isArray(e.records) ? e.records : [];
    const lines = records.slice(0, 8).map(summarizeRecord);
    if (records.length > 8) lines.push(`… ${records.length - 8} more records`);
    return { seq, at: typeof e.at === 'number' ? e.at : undefined, writer: typeof e.writer === 'string' ? e.writer : undefined, records: lines };
  } catch {
    return { seq, records: ['undecodable entry'] };
  }
}

/** The last `n` entries, newest first; empty when the stream does not exist yet. */
export async function readCommitTail(nc: NatsConnection, subjects: Subjects, n: number): Promise<LogTailEntry[]> {
  const jsm = await jetstreamManager(nc, { timeout: 3000 });
  let last: number;
  let first: number;
  try {
    const info = await jsm.streams.info(subjects.commitLogStream);
    last = info.state.last_seq;
    first = info.state.first_seq;
  } catch {
    return [];
  }
  const out: LogTailEntry[] = [];
  for (let seq = last; seq >= Math.max(first, last - n + 1) && seq > 0; seq--) {
    const m = await jsm.streams.getMessage(subjects.commitLogStream, { seq }).catch(() => null);
    if (m !== null) out.push(summarizeEntry(seq, m.data));
  }
  return out;
}
