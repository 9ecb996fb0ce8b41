import { describe, expect, it } from 'vitest';
import type { JobListing } from '@tessera/protocol';
import { bucketDelta, histogramBuckets, histogramQuantile, parsePromText, sumSamples } from '../src/core/prom-text.ts';
import { conflictFraction, formatSummary, percentile, tallyJobs, utilisation } from '../src/core/summary.ts';
import { table, usage } from '../src/core/tables.ts';

const METRICS = `# HELP tessera_commit_claims_total Claims
# TYPE tessera_commit_claims_total counter
tessera_commit_claims_total{outcome="committed",service="cell-state"} 900
tessera_commit_claims_total{outcome="rejected",service="cell-state"} 100
tessera_commit_conflicts_total{reason="capacity",service="cell-state"} 60
tessera_commit_conflicts_total{reason="version",service="cell-state"} 40
tessera_cell_allocated_ratio{resource="cpu_millis"} 0.5
tessera_scheduler_job_delay_seconds_bucket{le="0.1"} 50
tessera_scheduler_job_delay_seconds_bucket{le="1"} 90
tessera_scheduler_job_delay_seconds_bucket{le="+Inf"} 100
weird_label{a="x\\"y"} 1
`;

describe('Prometheus text', () => {
  const s = parsePromText(METRICS);
  it('sums counters by name and label filter', () => {
    expect(sumSamples(s, 'tessera_commit_claims_total', { outcome: 'committed' })).toBe(900);
    expect(sumSamples(s, 'tessera_commit_conflicts_total')).toBe(100);
    expect(sumSamples(s, 'nope')).toBeUndefined();
    expect(s.find((x) => x.name === 'weird_label')?.labels.a).toBe('x"y');
  });
  it('reads histogram quantiles with linear interpolation', () => {
    const b = histogramBuckets(s, 'tessera_scheduler_job_delay_seconds');
    expect(histogramQuantile(b, 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(b, 0.7)).toBeCloseTo(0.1 + 0.9 * (20 / 40));
    expect(histogramQuantile(b, 0.99)).toBe(1); // in the +Inf bucket: the largest finite bound
    expect(histogramQuantile(new Map(), 0.5)).toBeUndefined();
    const before = new Map([[0.1, 50], [1, 50], [Infinity, 50]]);
    expect(histogramQuantile(bucketDelta(b, before), 0.5)).toBeCloseTo(0.1 + 0.9 * (25 / 40));
  });
});

describe('summary figures', () => {
  it.each([
    [[], 0.5, undefined],
    [[3, 1, 2], 0.5, 2],
    [[1, 2, 3, 4], 0.5, 2],
    [Array.from({ length: 100 }, (_, i) => i + 1), 0.99, 99],
    [[5], 0.99, 5],
  ])('percentile(%j, %s) = %s', (values, q, want) => {
    expect(percentile(values, q)).toBe(want);
  });

  it('conflict fraction = rejected / all claims', () => {
    expect(conflictFraction({ committed: 900, rejected: 100 })).toBeCloseTo(0.1);
    expect(conflictFraction({ committed: 0, rejected: 0 })).toBe(0);
    expect(conflictFraction({ committed: 90, conflicts: 10 })).toBeCloseTo(0.1);
    expect(conflictFraction({})).toBeUndefined();
  });

  it('tallies jobs, placed tasks and delays', () => {
    const jobs: JobListing[] = [
      { id: 'a', tenant: 't', state: 'finished', submittedAt: 1000, placedAt: 1500, tasks: [{ id: 'a/m/0', name: 'm', state: 'finished', node: 'n1' }] },
      { id: 'b', tenant: 't', state: 'unschedulable', reason: 'too big', submittedAt: 1000, tasks: [{ id: 'b/m/0', name: 'm', state: 'pending' }] },
      { id: 'c', tenant: 't', state: 'running', submittedAt: 2000, placedAt: 4000, tasks: [{ id: 'c/m/0', name: 'm', state: 'running', node: 'n2' }, { id: 'c/m/1', name: 'm', state: 'placed', node: 'n3' }] },
    ];
    const t = tallyJobs(jobs);
    expect(t).toEqual({ jobs: 3, byState: { finished: 1, unschedulable: 1, running: 1 }, tasks: 4, placedTasks: 3, delaysS: [0.5, 2] });
  });

  it('utilisation: mean and peak per resource', () => {
    expect(utilisation([{ cpu: 0.2, mem: 0.1 }, { cpu: 0.6, mem: 0.3 }])).toEqual({ cpu: { mean: 0.4, peak: 0.6 }, mem: { mean: 0.2, peak: 0.3 } });
    expect(utilisation([])).toEqual({});
  });

  it('formats a summary with every figure', () => {
    const text = formatSummary({
      trace: 't.jsonl.gz', speed: 100, wallS: 61.2, submitted: 10, duplicates: 0,
      jobs: { jobs: 10, byState: { finished: 9, unschedulable: 1 }, tasks: 20, placedTasks: 19, delaysS: [] },
      placements: 19, conflicts: 2, conflictFraction: 2 / 21, delayP50S: 0.0123, delayP99S: 1.5, delaySource: 'jobs',
      utilisation: { cpu_millis: { mean: 0.5, peak: 0.75 } }, unfinished: 0,
    });
    expect(text).toContain('placements          19 (19 of 20 tasks placed)');
    expect(text).toContain('conflict fraction   9.52%');
    expect(text).toContain('delay p50 / p99     12.3 ms / 1.50 s');
    expect(text).toContain('cpu_millis mean 50.00% peak 75.00%');
  });
});

describe('tables', () => {
  it('aligns columns and shows missing cells as -', () => {
    expect(table(['A', 'LONGER'], [['x', undefined], ['yyyy', 2]])).toBe('A     LONGER\nx     -\nyyyy  2');
  });
  it('shows usage in natural units', () => {
    expect(usage('cpu_millis', 1500, 32000)).toBe('1.5/32');
    expect(usage('mem_mib', 2048, 131072)).toBe('2/128G');
    expect(usage('gpu', undefined, 8)).toBe('0/8');
  });
});
