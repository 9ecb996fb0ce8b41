/** Jobs many to a message: the builder's bytes decode as a `jobBatch`, and readers take both forms. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRaw, decodeJobsMessage, encode, jobBatch, JobBatchBuilder, MAX_JOBS_PER_MESSAGE } from '../src/index.ts';

const job = (i: number, pad = 0) => ({ id: `job-${i}`, tenant: 't', tasks: [{ name: 'x'.repeat(1 + pad), count: 1, resources: { cpu_millis: 1000, mem_mib: 10 } }] });

function build(jobs: { id: string }[], at: number, maxJobs?: number, maxBytes?: number, cutEvery = 0) {
  const b = new JobBatchBuilder(maxJobs, maxBytes, cutEvery);
  const out = [];
  for (const j of jobs) {
    const done = b.add(j, at);
    if (done) out.push(done);
  }
  const last = b.take(at);
  if (last) out.push(last);
  return out;
}

describe('JobBatchBuilder', () => {
  it('assembles exactly the msgpack encoding of { jobs, submittedAt } (every array header size, int and float times)', () => {
    for (const n of [1, 15, 16, 1000]) {
      for (const at of [0, 1_764_000_000_123, 12.5, -3]) {
        const jobs = Array.from({ length: n }, (_, i) => job(i));
        const [batch, ...rest] = build(jobs, at, MAX_JOBS_PER_MESSAGE, Infinity);
        expect(rest).toHaveLength(0);
        expect(batch.payload).toEqual(encode({ jobs, submittedAt: at }));
        expect(batch.ids).toEqual(jobs.map((j) => j.id));
        expect(jobBatch.safeParse(decodeRaw(batch.payload)).success).toBe(true);
      }
    }
  });

  it('cuts batches by job count and by size, never drops or reorders a job, and sends an oversized job alone', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: 300 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 4000 }), (pads, maxJobs, maxBytes) => {
      const jobs = pads.map((p, i) => job(i, p));
      const batches = build(jobs, 7, maxJobs, maxBytes);
      const seen: string[] = [];
      for (const b of batches) {
        expect(b.ids.length).toBeLessThanOrEqual(maxJobs);
        const d = decodeJobsMessage(b.payload);
        expect(d.ok).toBe(true);
        if (!d.ok) return;
        const inner = d.value.reduce((a, s) => a + encode(s.job).length, 0);
        if (b.ids.length > 1) expect(inner).toBeLessThanOrEqual(maxBytes);
        for (const s of d.value) {
          expect(s.submittedAt).toBe(7);
          seen.push(s.job.id as string);
        }
      }
      expect(seen).toEqual(jobs.map((j) => j.id));
    }), { numRuns: 200 });
  });

  it('cuts by content: the same jobs make the same batches wherever they sit, so resubmissions repeat them', () => {
    fc.assert(fc.property(fc.array(fc.nat(), { minLength: 50, maxLength: 400 }), fc.nat(), (keys, at) => {
      const jobs = [...new Set(keys)].map((k) => job(k));
      const whole = build(jobs, 1, 256, Infinity, 16).map((b) => b.ids.join(','));
      // One job more at the end, or one removed from the middle: only the batches around it change.
      const cut = at % jobs.length;
      const edited = build([...jobs.slice(0, cut), ...jobs.slice(cut + 1), job(1_000_000)], 1, 256, Infinity, 16).map((b) => b.ids.join(','));
      const common = whole.filter((b) => edited.includes(b)).length;
      expect(common).toBeGreaterThanOrEqual(whole.length - 3);
    }), { numRuns: 100 });
    // About one batch per `cutEvery` jobs.
    const many = build(Array.from({ length: 4000 }, (_, i) => job(i)), 1, 1000, Infinity, 16);
    expect(many.length).toBeGreaterThan(4000 / 16 / 2);
    expect(many.length).toBeLessThan(4000 / 16 * 2);
  });
});

describe('decodeJobsMessage', () => {
  it('reads a single submission (hand-backs, older clients) as one', () => {
    const sub = { job: job(1), submittedAt: 5, tasks: ['job-1/x/0'], attempt: 2 };
    const d = decodeJobsMessage(encode(sub));
    expect(d).toEqual({ ok: true, value: [sub] });
  });

  it('refuses garbage, bad batches and oversized messages with typed errors', () => {
    const cases: [Uint8Array, string, string?][] = [
      [new Uint8Array([0xc1]), 'decode_failed'],
      [encode({ jobs: [], submittedAt: 1 }), 'invalid', 'jobs'],
      [encode({ jobs: [job(1), 'x'], submittedAt: 1 }), 'invalid', 'jobs[1]'],
      [encode({ jobs: [job(1)] }), 'invalid', 'submittedAt'],
      [encode({ job: 3, submittedAt: 1 }), 'invalid', 'job'],
      [encode('hello'), 'invalid', '(root)'],
    ];
    for (const [bytes, code, path] of cases) {
      const d = decodeJobsMessage(bytes);
      expect(d.ok).toBe(false);
      if (d.ok) continue;
      expect(d.error.code).toBe(code);
      if (path !== undefined) expect(d.error.path).toBe(path);
    }
    const big = decodeJobsMessage(encode({ jobs: [job(1)], submittedAt: 1 }), 10);
    expect(!big.ok && big.error.code).toBe('too_large');
  });
});
