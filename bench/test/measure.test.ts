import { describe, expect, it } from 'vitest';
import { percentiles, quantileSorted, slope } from '../src/stats.ts';
import {
  histogramAdd, histogramDelta, histogramFractionAbove, histogramMean, histogramOf, histogramQuantile, parsePrometheusText, PromParseError, sumOf,
} from '../src/prom.ts';
import { cpuCores, machineBusy, parseMachineStat, parseProcStat, parseProcStatus, ProcParseError } from '../src/proc.ts';
import { ArrivalClock } from '../src/arrivals.ts';
import { listingBatches, summariseDelayCheck } from '../src/delay-check.ts';
import { workLag } from '../src/window.ts';
import type { Scrape } from '../src/scrape.ts';

describe('percentiles', () => {
  it.each([
    { xs: [1], q: 0.5, want: 1 },
    { xs: [1, 2], q: 0.5, want: 1.5 },
    { xs: [1, 2, 3, 4, 5], q: 0, want: 1 },
    { xs: [1, 2, 3, 4, 5], q: 1, want: 5 },
    { xs: [1, 2, 3, 4, 5], q: 0.9, want: 4.6 },
    { xs: Array.from({ length: 101 }, (_, i) => i), q: 0.99, want: 99 },
  ])('quantileSorted($xs, $q) = $want', ({ xs, q, want }) => {
    expect(quantileSorted(xs, q)).toBeCloseTo(want, 10);
  });

  it('is NaN on no samples and refuses q outside [0, 1]', () => {
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(() => quantileSorted([1], 1.5)).toThrow(RangeError);
  });

  it('summarises unsorted samples and drops non-finite ones', () => {
    const p = percentiles([5, 1, Number.NaN, 3, Infinity, 2, 4]);
    expect(p).toMatchObject({ n: 5, p50: 3, max: 5, mean: 3 });
  });

  it('fits a slope', () => {
    expect(slope([[0, 1], [1, 3], [2, 5]])).toBeCloseTo(2);
    expect(slope([[0, 1]])).toBe(0);
    expect(slope([[1, 1], [1, 5]])).toBe(0);
  });
});

const METRICS = `# HELP tessera_commit_claims_total Claims decided
# TYPE tessera_commit_claims_total counter
tessera_commit_claims_total{outcome="committed",cell="c"} 900
tessera_commit_claims_total{outcome="rejected",cell="c"} 100
weird_label{path="a\\"b\\\\c",x="1"} 1.5e3
plain_gauge 42
inf_gauge +Inf
# TYPE d histogram
d_bucket{le="0.01",s="a"} 10
d_bucket{le="0.1",s="a"} 60
d_bucket{le="1",s="a"} 100
d_bucket{le="+Inf",s="a"} 100
d_sum{s="a"} 12
d_count{s="a"} 100
d_bucket{le="0.01",s="b"} 0
d_bucket{le="0.1",s="b"} 0
d_bucket{le="1",s="b"} 0
d_bucket{le="+Inf",s="b"} 100
d_sum{s="b"} 500
d_count{s="b"} 100
`;

describe('Prometheus text', () => {
  const samples = parsePrometheusText(METRICS);

  it('parses names, labels (with escapes) and values', () => {
    expect(samples.find((s) => s.name === 'weird_label')).toEqual({ name: 'weird_label', labels: { path: 'a"b\\c', x: '1' }, value: 1500 });
    expect(samples.find((s) => s.name === 'plain_gauge')?.value).toBe(42);
    expect(samples.find((s) => s.name === 'inf_gauge')?.value).toBe(Infinity);
  });

  it('sums over label sets with a filter', () => {
    expect(sumOf(samples, 'tessera_commit_claims_total')).toBe(1000);
    expect(sumOf(samples, 'tessera_commit_claims_total', { outcome: 'rejected' })).toBe(100);
    expect(sumOf(samples, 'missing')).toBe(0);
  });

  it('refuses a malformed line', () => {
    expect(() => parsePrometheusText('x{a="1} 3')).toThrow(PromParseError);
    expect(() => parsePrometheusText('x{a=1} 3')).toThrow(PromParseError);
    expect(() => parsePrometheusText('x abc')).toThrow(PromParseError);
  });

  it('merges a histogram over label sets and interpolates quantiles like histogram_quantile', () => {
    const a = histogramOf(samples, 'd', { s: 'a' });
    expect(a.le).toEqual([0.01, 0.1, 1, Infinity]);
    expect(a.counts).toEqual([10, 60, 100, 100]);
    // rank 50 falls in (0.01, 0.1]: 0.01 + 0.09 × (50 − 10) / 50
    expect(histogramQuantile(a, 0.5)).toBeCloseTo(0.01 + (0.09 * 40) / 50);
    expect(histogramQuantile(a, 0.05)).toBeCloseTo(0.005);
    expect(histogramMean(a)).toBeCloseTo(0.12);
    const both = histogramOf(samples, 'd');
    expect(both.count).toBe(200);
    // the top half is in +Inf: the answer is the highest finite bound
    expect(histogramQuantile(both, 0.99)).toBe(1);
    expect(histogramFractionAbove(both, 1)).toBeCloseTo(0.5);
  });

  it('differences two scrapes (the window) and adds histograms', () => {
    const later = histogramOf(samples, 'd', { s: 'a' });
    const earlier = { le: [0.01, 0.1, 1, Infinity], counts: [10, 10, 10, 10], sum: 0.05, count: 10 };
    const d = histogramDelta(later, earlier);
    expect(d.counts).toEqual([0, 50, 90, 90]);
    expect(d.count).toBe(90);
    expect(histogramQuantile(d, 0.5)).toBeCloseTo(0.01 + (0.09 * 45) / 50);
    expect(histogramAdd(d, earlier).counts).toEqual(later.counts);
  });

  it('has no quantile without observations', () => {
    expect(histogramQuantile(histogramOf([], 'none'), 0.5)).toBeNaN();
  });
});

describe('/proc parsing', () => {
  // A command name with spaces and parentheses, as node's can have.
  const STAT = '4242 (node (my) app) S 1 4242 4242 0 -1 4194560 5000 0 0 0 1234 567 0 0 20 0 11 0 99887766 1234567890 30000 18446744073709551615 1 1 0 0 0 0 0 16781312 17922 0 0 0 17 1 0 0 0 0 0';

  it('reads utime, stime, start time and rss after the last parenthesis', () => {
    expect(parseProcStat(STAT)).toEqual({ pid: 4242, comm: 'node (my) app', state: 'S', ppid: 1, utime: 1234, stime: 567, starttime: 99887766, rssPages: 30000 });
  });

  it('refuses what is not a stat line', () => {
    expect(() => parseProcStat('garbage')).toThrow(ProcParseError);
  });

  it('reads VmRSS and VmHWM from status', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    expect(parseProcStatus(status)).toEqual({ vmRssKb: 102400, vmHwmKb: 204800, threads: 11 });
    expect(parseProcStatus('Name:\tzombie\n').vmHwmKb).toBeNaN();
  });

  it('turns tick differences into cores and machine busy fractions', () => {
    const a = parseProcStat(STAT);
    const b = { ...a, utime: a.utime + 150, stime: a.stime + 50 };
    expect(cpuCores(a, b, 2, 100)).toBeCloseTo(1);
    expect(cpuCores(a, b, 0, 100)).toBeNaN();
    const m1 = parseMachineStat('cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n');
    const m2 = parseMachineStat('cpu  250 0 150 900 0 0 0 0 0 0\n');
    expect(m1).toEqual({ busy: 200, total: 1000 });
    expect(machineBusy(m1, m2)).toBeCloseTo(200 / 300);
  });
});

describe('arrival clock', () => {
  const constant = (u: number) => ({ next: () => u });

  it('spaces arrivals by exponential gaps over the rate', () => {
    const u = 1 - Math.exp(-1); // a unit-exponential draw of exactly 1
    const c = new ArrivalClock(constant(u), 10, 0);
    expect(c.due(350).map((t) => Math.round(t))).toEqual([100, 200, 300]);
  });

  it('rescales the remaining gap when the rate changes and does not burst after a pause', () => {
    const u = 1 - Math.exp(-1);
    const c = new ArrivalClock(constant(u), 10, 0);
    c.due(150); // next is at 200
    c.setRate(20, 150); // 50 ms left at rate 10 → 25 ms at rate 20
    expect(Math.round(c.next)).toBe(175);
    c.resume(10_000);
    expect(c.due(10_000)).toEqual([]);
    expect(Math.round(c.next)).toBe(10_050);
  });
});

describe('exact-delay cross-check', () => {
  it('batches listing requests by tasks and ids', () => {
    const subs = [10, 15_000, 8_000, 1, 30_000].map((tasks, i) => ({ id: `j${i}`, submittedAt: 0, tasks }));
    expect(listingBatches(subs, 20_000, 50)).toEqual([['j0', 'j1'], ['j2', 'j3'], ['j4']]);
    expect(listingBatches(subs, 1e9, 2)).toEqual([['j0', 'j1'], ['j2', 'j3'], ['j4']]);
  });

  it('summarises delays by job size and counts jobs not placed', () => {
    const subs = [{ id: 'a', submittedAt: 0, tasks: 5 }, { id: 'b', submittedAt: 0, tasks: 5000 }, { id: 'c', submittedAt: 0, tasks: 50 }, { id: 'd', submittedAt: 0, tasks: 1 }];
    const s = summariseDelayCheck(subs, [{ id: 'a', delayMs: 10, state: 'placed' }, { id: 'b', delayMs: 900, state: 'running' }, { id: 'c', state: 'pending' }, { id: 'd', delayMs: 0, state: 'placed' }]);
    expect(s.notPlaced).toEqual({ pending: 1 });
    expect(s.unknownDelay).toBe(1);
    expect(s.all.n).toBe(2);
    expect(s.byClass.map((c) => c.delayMs.n)).toEqual([1, 0, 1, 0]);
  });
});

describe('work lag', () => {
  const scrape = (t: number, published: number, committed: number): Scrape => ({
    t, schedulers: [], processes: [], failed: [], machine: { busy: 0, total: 0 },
    cellState: [{ name: 'tessera_commit_claims_total', labels: { outcome: 'committed' }, value: committed }],
    loadgen: { t: 'stats', published: 0, tasks: published, late: 0, errors: 0, inFlight: 0, maxLagMs: 0, rate: 1, sampled: [], done: false },
  });

  it.each([
    { name: 'all committed', series: [scrape(0, 0, 0), scrape(1000, 500, 500)], want: 0 },
    // 1 500 committed at 3 s; published reached 1 500 halfway between 1 s (1 000) and 2 s (2 000)
    { name: 'behind, interpolated', series: [scrape(0, 0, 0), scrape(1000, 1000, 900), scrape(2000, 2000, 1200), scrape(3000, 3000, 1500)], want: 1.5 },
    { name: 'behind by more than the window', series: [scrape(0, 5000, 0), scrape(4000, 9000, 100)], want: 4 },
  ])('$name', ({ series, want }) => {
    expect(workLag(series)).toBeCloseTo(want);
  });
});
