/** What a scheduler tells cell-state about a job it gives up on: one readable reason line. */

/** Longest reason the protocol accepts (jobOutcomeRequest.reason). */
export const MAX_REASON_LENGTH = 4000;

/**
 * `reason (count); …`, most frequent first (ties by name, so the text is stable). Counts are
 * nodes refused by a filter, claims refused by the committer, or 1 for a give-up reason.
 */
export function formatReasons(reasons: Readonly<Record<string, number>>): string {
  const entries = Object.entries(reasons).filter(([, n]) => n > 0);
  if (entries.length === 0) return 'no node could take the job (the scheduler view held no nodes)';
  entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const text = entries.map(([r, n]) => `${r} (${n})`).join('; ');
  return text.length <= MAX_REASON_LENGTH ? text : `${text.slice(0, MAX_REASON_LENGTH - 1)}…`;
}
