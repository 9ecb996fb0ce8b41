/**
 * A small fuzz run in `npm test` (the full one, ≥ 100,000 messages per subject, is `npm run fuzz`):
 * hostile messages on every subject cell-state and the scheduler serve are all refused with typed
 * errors, nothing crashes, and the cell's listings, syncs and mode are unchanged.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from './run.ts';

describe('fuzzing every served subject', () => {
  it('refuses every invalid message with a typed error, changes nothing, and keeps serving', async () => {
    const r = await runFuzz({ perSubject: 300, seed: Date.now() % 1_000_000 });
    expect(r.crashed).toEqual([]);
    expect(r.stateChanged).toEqual([]);
    for (const s of r.subjects) {
      expect(s.problems, s.subject).toEqual([]);
      expect(s.sent, s.subject).toBe(300);
      const refused = Object.values(s.refusedByCode).reduce((a, b) => a + b, 0);
      expect(refused + s.answeredOk, s.subject).toBe(s.sent);
      expect(refused, s.subject).toBeGreaterThan(0);
    }
  });
});
