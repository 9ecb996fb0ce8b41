import { describe, expect, it } from 'vitest';
import { AdmissionControl, admissionPolicy } from '../src/index.ts';

describe('AdmissionControl', () => {
  it('floors the window at a sixteenth of the concurrency', () => {
    expect(admissionPolicy(256).minJobs).toBe(16);
    expect(admissionPolicy(8).minJobs).toBe(4);
    expect(admissionPolicy(2).minJobs).toBe(2);
  });

  it('starts at the configured concurrency and admits below it', () => {
    const a = new AdmissionControl(admissionPolicy(64));
    expect(a.jobWindow).toBe(64);
    expect(a.retryWindow).toBe(16);
    expect(a.admits(63)).toBe(true);
    expect(a.admits(64)).toBe(false);
  });

  it.each([
    { name: 'an answer under both targets changes nothing', answers: [[81, 19, 999, 0]], want: 64 },
    { name: 'an answer above the conflict target halves the window', answers: [[50, 50, 10, 0]], want: 32 },
    { name: 'an answer that waited too long halves it too', answers: [[100, 0, 1500, 0]], want: 32 },
    { name: 'one cut per cut interval (one burst is one cut)', answers: [[50, 50, 10, 0], [0, 10, 10, 100], [0, 10, 10, 499]], want: 32 },
    { name: 'a cut per interval while refusals go on', answers: [[50, 50, 10, 0], [0, 10, 10, 500], [0, 10, 10, 1000]], want: 8 },
    { name: 'never below minJobs (a sixteenth, at least 4)', answers: Array.from({ length: 20 }, (_, i) => [0, 10, 10, i * 1000]), want: 4 },
    { name: 'empty answers count by their wait only', answers: [[0, 0, 10, 0]], want: 64 },
  ])('$name', ({ answers, want }) => {
    const a = new AdmissionControl(admissionPolicy(64));
    for (const [c, r, w, t] of answers) a.observeAnswer(c, r, w, t);
    expect(a.jobWindow).toBe(want);
  });

  it('grows back by one per clean job, up to the concurrency; a job with conflicts does not grow it', () => {
    const a = new AdmissionControl(admissionPolicy(16));
    a.observeAnswer(0, 10, 10, 0);
    expect(a.jobWindow).toBe(8);
    a.observeJobDone(false);
    expect(a.jobWindow).toBe(8);
    for (let i = 0; i < 3; i++) a.observeJobDone(true);
    expect(a.jobWindow).toBe(11);
    for (let i = 0; i < 100; i++) a.observeJobDone(true);
    expect(a.jobWindow).toBe(16);
    expect(a.retryWindow).toBe(4);
  });

  it('keeps at least one retry slot', () => {
    const a = new AdmissionControl(admissionPolicy(2, { minJobs: 1 }));
    a.observeAnswer(0, 1, 10, 0);
    expect(a.jobWindow).toBe(1);
    expect(a.retryWindow).toBe(1);
  });

  it.each([
    { o: { decrease: 1 } }, { o: { targetConflictFraction: 1 } }, { o: { minJobs: 0 } }, { o: { retryFraction: 0 } }, { o: { cutIntervalMs: -1 } }, { o: { targetLatencyMs: 0 } },
  ])('refuses $o', ({ o }) => {
    expect(() => admissionPolicy(8, o)).toThrow(RangeError);
  });
});
