/**
 * The queue file's shell side (DESIGN §10): it lives under the key `queues` of the config bucket,
 * so restarts and a standby taking over keep it. `tessera queues apply` asks the leader, which
 * validates the file whole against the cell, stores it, and puts it in force; a refused file
 * changes nothing. The leader re-reads the key whenever it starts serving.
 */
import type { KV } from '@nats-io/kv';
import { decodeRaw, encode } from '@tessera/protocol';
import { withBoundedAttempts, type Logger } from '@tessera/runtime';
import { applyQueueFile } from '../core/queues.ts';
import type { CellModel } from '../core/model.ts';

export const QUEUES_KEY = 'queues';

interface StoredQueues {
  readonly file: unknown;
  readonly version: number;
}

/** One read of the stored queue file may take this long before another is sent (see withBoundedAttempts). */
const READ_ATTEMPT_MS = 500;
const READ_ATTEMPTS = 20;

/** Loads the stored queue file into the model (at the start of serving); a bad stored file is logged and ignored. */
export async function loadStoredQueues(kv: KV, model: CellModel, log: Logger): Promise<void> {
  try {
    const e = await withBoundedAttempts('reading the stored queue file', () => kv.get(QUEUES_KEY), READ_ATTEMPT_MS, READ_ATTEMPTS);
    if (e === null || e.operation !== 'PUT' || e.value.length === 0) return;
    const stored = decodeRaw(e.value) as StoredQueues;
    const r = applyQueueFile(model, stored.file, stored.version);
    if (!r.ok) log.warn({ path: r.error.path, error: r.error.message }, 'the stored queue file is refused; keeping the queues in force');
    else log.info({ version: stored.version, queues: model.queues.tree?.all().length }, 'queue file loaded from the config bucket');
  } catch (e) {
    log.warn({ err: e }, 'cannot read the stored queue file');
  }
}

/** Validates, stores, then applies (so the file in force is always the stored one). */
export async function applyAndStore(kv: KV, model: CellModel, file: unknown): Promise<{ ok: true; version: number } | { ok: false; path: string; message: string }> {
  const trial = { ...model, queues: { ...model.queues } };
  const r = applyQueueFile(trial, file);
  if (!r.ok) return { ok: false, path: r.error.path, message: r.error.message };
  const version = trial.queues.version;
  await kv.put(QUEUES_KEY, encode({ file, version } satisfies StoredQueues));
  model.queues.tree = trial.queues.tree;
  model.queues.file = trial.queues.file;
  model.queues.version = version;
  return { ok: true, version };
}
