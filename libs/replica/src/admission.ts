/**
 * Admission control for one replica: how many jobs it works on at once, and how many of them may
 * be in a conflict-retry round at once. Pure (time passed in); the shell takes jobs from the
 * stream only while it holds fewer than {@link AdmissionControl.jobWindow}, and runs retry rounds
 * through a queue of {@link AdmissionControl.retryWindow} slots.
 *
 * Why: under overload every extra job in flight is another proposal made on a view that the other
 * replicas' commits are making stale, so conflicts grow with the work taken, and every conflict
 * is a retry that costs a placement and a commit again: a storm that feeds on itself (measured:
 * 40-65 % of claims refused, and no recovery once the load fell back). Jobs not taken wait
 * durably in JetStream, where another replica (or this one, later) takes them on a fresher view.
 *
 * The window moves like TCP's congestion window (AIMD) on two signals: it halves when an answer
 * shows more than `targetConflictFraction` of its claims refused, or when a proposal waited longer
 * than `targetLatencyMs` for its answer (the committer's queue is long: every claim in it is
 * decided on a view older than its wait) — at most once per `cutIntervalMs`, so one burst is one
 * cut — and grows by one per job that finished without a conflict. The retry window is a fraction
 * of it: retries never take all the slots from first attempts.
 */

export interface AdmissionPolicy {
  /** The window never shrinks below this (jobs). */
  readonly minJobs: number;
  /** ... nor grows above this (the configured concurrency). */
  readonly maxJobs: number;
  /** A round whose refused fraction of claims is above this cuts the window. */
  readonly targetConflictFraction: number;
  /** An answer that took longer than this (ms, proposal to answer) cuts the window. */
  readonly targetLatencyMs: number;
  /** The multiplicative cut, in (0, 1). */
  readonly decrease: number;
  /** At most one cut per this long (ms): the answers of one burst arrive together. */
  readonly cutIntervalMs: number;
  /** Retry rounds in flight at most, as a fraction of the job window (at least 1). */
  readonly retryFraction: number;
}

export const DEFAULT_ADMISSION_POLICY: Omit<AdmissionPolicy, 'maxJobs' | 'minJobs'> = Object.freeze({
  targetConflictFraction: 0.2,
  targetLatencyMs: 1_000,
  decrease: 0.5,
  cutIntervalMs: 500,
  retryFraction: 0.25,
});

export function admissionPolicy(maxJobs: number, o: Partial<AdmissionPolicy> = {}): AdmissionPolicy {
  // The floor: a sixteenth of the concurrency (at least 4), so a cut never idles a replica.
  const p: AdmissionPolicy = { ...DEFAULT_ADMISSION_POLICY, maxJobs, minJobs: Math.max(4, Math.floor(maxJobs / 16)), ...o };
  if (!Number.isInteger(p.maxJobs) || p.maxJobs < 1) throw new RangeError(`maxJobs must be an integer ≥ 1, got ${p.maxJobs}`);
  if (!Number.isInteger(p.minJobs) || p.minJobs < 1) throw new RangeError(`minJobs must be an integer ≥ 1, got ${p.minJobs}`);
  if (!(p.targetConflictFraction >= 0 && p.targetConflictFraction < 1)) throw new RangeError(`targetConflictFraction must be in [0, 1), got ${p.targetConflictFraction}`);
  if (!(p.targetLatencyMs > 0)) throw new RangeError(`targetLatencyMs must be > 0, got ${p.targetLatencyMs}`);
  if (!(p.decrease > 0 && p.decrease < 1)) throw new RangeError(`decrease must be in (0, 1), got ${p.decrease}`);
  if (!(p.cutIntervalMs >= 0) || !Number.isFinite(p.cutIntervalMs)) throw new RangeError(`cutIntervalMs must be a finite number ≥ 0, got ${p.cutIntervalMs}`);
  if (!(p.retryFraction > 0 && p.retryFraction <= 1)) throw new RangeError(`retryFraction must be in (0, 1], got ${p.retryFraction}`);
  return Object.freeze({ ...p, minJobs: Math.min(p.minJobs, p.maxJobs) });
}

export class AdmissionControl {
  readonly policy: AdmissionPolicy;
  private window: number;
  private lastCut = -Infinity;
  /** Cuts so far (for metrics and tests). */
  cuts = 0;

  constructor(policy: AdmissionPolicy) {
    this.policy = policy;
    this.window = policy.maxJobs;
  }

  /** Jobs this replica may hold at once now. */
  get jobWindow(): number {
    return Math.floor(this.window);
  }

  /** Conflict-retry rounds that may be in flight at once now. */
  get retryWindow(): number {
    return Math.max(1, Math.floor(this.window * this.policy.retryFraction));
  }

  /** Whether one more job may be taken while `held` are held. */
  admits(held: number): boolean {
    return held < this.jobWindow;
  }

  /**
   * One transaction's answer: `committed` and `rejected` claims (conflicts only, not duplicates),
   * `waitedMs` after it was proposed.
   */
  observeAnswer(committed: number, rejected: number, waitedMs: number, now: number): void {
    const total = committed + rejected;
    const conflicted = total > 0 && rejected / total > this.policy.targetConflictFraction;
    if (!conflicted && !(waitedMs > this.policy.targetLatencyMs)) return;
    if (now - this.lastCut < this.policy.cutIntervalMs) return;
    this.lastCut = now;
    this.cuts++;
    this.window = Math.max(this.policy.minJobs, this.window * this.policy.decrease);
  }

  /** A job finished; `clean` when none of its claims was ever refused. */
  observeJobDone(clean: boolean): void {
    if (clean) this.window = Math.min(this.policy.maxJobs, this.window + 1);
  }
}
