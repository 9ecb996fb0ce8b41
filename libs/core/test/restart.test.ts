import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART, restartBackoffMs, restartPolicyOf, validateJobSpec } from '../src/index.ts';
import { space } from './builders.ts';

const job = (restart?: unknown) => ({ id: 'j', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1 } }], ...(restart !== undefined ? { restart } : {}) });

describe('restart policy', () => {
  it.each([
    { restart: undefined, want: DEFAULT_RESTART },
    { restart: {}, want: DEFAULT_RESTART },
    { restart: { attempts: 0 }, want: { attempts: 0, backoffS: 10 } },
    { restart: { attempts: 5, backoff_s: 0.5 }, want: { attempts: 5, backoffS: 0.5 } },
  ])('$restart → $want', ({ restart, want }) => {
    const v = validateJobSpec(job(restart), space);
    expect(v.ok && restartPolicyOf(v.job)).toEqual(want);
  });

  it.each([
    [{ attempts: -1 }, 'restart.attempts'],
    [{ attempts: 1.5 }, 'restart.attempts'],
    [{ backoff_s: -1 }, 'restart.backoff_s'],
    [{ tries: 3 }, 'restart'],
  ])('refuses %j at %s', (restart, path) => {
    expect(validateJobSpec(job(restart), space)).toMatchObject({ ok: false, error: { path } });
  });

  it('doubles the backoff at each restart, up to 5 min (or backoff_s when longer)', () => {
    expect([1, 2, 3, 10].map((n) => restartBackoffMs({ attempts: 9, backoffS: 10 }, n))).toEqual([10_000, 20_000, 40_000, 300_000]);
    expect(restartBackoffMs({ attempts: 9, backoffS: 600 }, 3)).toBe(600_000);
    expect(restartBackoffMs({ attempts: 9, backoffS: 0 }, 3)).toBe(0);
  });
});
