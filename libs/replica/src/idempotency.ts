/**
 * Idempotency keys of proposals. A key is a pure function of (scheduler, job, attempt, chunk), so
 * resending a proposal whose answer was lost reuses its key and the committer returns the first
 * outcome instead of committing twice (DESIGN §5.5).
 */

const SCHEDULER_ID = /^[A-Za-z0-9_.@-]{1,100}$/;

export function isValidSchedulerId(id: string): boolean {
  return SCHEDULER_ID.test(id);
}

/**
 * `schedulerId:jobId:attempt:chunk`. Scheduler ids have no ':' and attempt/chunk are the last two
 * numeric fields, so the key is unambiguous even though job ids may contain ':'.
 */
export function txnKey(schedulerId: string, jobId: string, attempt: number, chunk: number): string {
  return `${schedulerId}:${jobId}:${attempt}:${chunk}`;
}

/** The (scheduler, job, attempt, chunk) of a key made by {@link txnKey}, or undefined. */
export function parseTxnKey(key: string): { schedulerId: string; jobId: string; attempt: number; chunk: number } | undefined {
  const first = key.indexOf(':');
  const last = key.lastIndexOf(':');
  const mid = key.lastIndexOf(':', last - 1);
  if (first <= 0 || mid <= first) return undefined;
  const attempt = Number(key.slice(mid + 1, last));
  const chunk = Number(key.slice(last + 1));
  if (!Number.isInteger(attempt) || !Number.isInteger(chunk)) return undefined;
  return { schedulerId: key.slice(0, first), jobId: key.slice(first + 1, mid), attempt, chunk };
}
