import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUNDLED } from '@tessera/workloads';
import { main } from '../src/cli.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  return { out, err };
}

afterEach(() => vi.restoreAllMocks());

const small = ['--sizes', BUNDLED.alibaba2017Sample, '--nodes', '80', '--load', '0.7', '--duration-s', '60', '--max-task-s', '30', '--schedulers', '2', '--partitions', '4'];

describe('sim CLI', () => {
  it.each([
    [['--schedulers', '0'], /schedulers must be an integer ≥ 1/],
    [['--mode', 'fastest'], /mode must be one of latency-first, quality-first, adaptive, state-sync/],
    [['--conflict', 'medium'], /conflict must be one of fine, coarse/],
    [['--load', '-1'], /load must be a number > 0/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--sweep', 'colour=1,2'], /unknown parameter "colour"/],
    [['--sweep', 'schedulers=1,x'], /schedulers must be an integer/],
    [['--workload', '/nonexistent/trace.jsonl'], /nonexistent/],
  ])('%j → one line on stderr, exit 2', async (args, message) => {
    const { out, err } = capture();
    expect(await main(args)).toBe(2);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(err[0].trim().split('\n')).toHaveLength(1);
    expect(out).toEqual([]);
  });

  it('--sweep prints one JSON summary per value; --no-wall leaves wall_s out, so output is reproducible', async () => {
    const { out } = capture();
    expect(await main([...small, '--sweep', 'mode=latency-first,state-sync', '--json', '--no-wall'])).toBe(0);
    const first = out.join('');
    const parsed = JSON.parse(first) as { config: { mode: string }; wall_s?: number; conflict_fraction: number; delay_ms: { p50: number } }[];
    expect(parsed.map((s) => s.config.mode)).toEqual(['latency-first', 'state-sync']);
    expect(parsed[0].wall_s).toBeUndefined();
    for (const key of ['placements', 'proposed_claims', 'conflicts', 'conflict_fraction', 'retries_per_placement', 'delay_ms', 'staleness_ms', 'quality', 'utilization', 'unschedulable']) {
      expect(parsed[0]).toHaveProperty(key);
    }
    vi.restoreAllMocks();
    const again = capture();
    expect(await main([...small, '--sweep', 'mode=latency-first,state-sync', '--json', '--no-wall'])).toBe(0);
    expect(again.out.join('')).toBe(first);
  });

  it('prints a readable summary without --json, with wall_s', async () => {
    const { out } = capture();
    expect(await main(small)).toBe(0);
    expect(out.join('')).toMatch(/conflicts \d+\/\d+ = [\d.]+%.*\n.*delay p50/s);
    expect(out.join('')).toMatch(/wall [\d.]+ s/);
  });

  it('--preemption --production-priority 9 --check: google2011 batch is preemptible, evictions and invariants are in the summary', async () => {
    const { out } = capture();
    const args = ['--workload', BUNDLED.google2011Sample, '--nodes', '8', '--load', '4', '--duration-s', '300', '--max-task-s', '120', '--schedulers', '2', '--partitions', '4'];
    expect(await main([...args, '--production-priority', '9', '--preemption', '--check', '--json', '--no-wall'])).toBe(0);
    const s = JSON.parse(out.join('')) as { preemption?: { evictions: number; requeued: number }; delay_by_class?: { production: { jobs_placed: number } }; invariants?: Record<string, { count: number }> };
    expect(s.preemption!.evictions).toBeGreaterThan(0);
    expect(s.preemption!.requeued).toBe(s.preemption!.evictions);
    expect(s.delay_by_class!.production.jobs_placed).toBeGreaterThan(0);
    expect(Object.values(s.invariants!).map((v) => v.count)).toEqual([0, 0, 0, 0]);
  });
});
