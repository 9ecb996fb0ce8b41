import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { barChart, lineChart, lineChartSpec, writeSvg } from '../src/index.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-plots-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The `d` attributes of the data marks (lines or bars) Vega drew, in drawing order. */
function markPaths(svg: string, role: 'line mark' | 'bar'): { label: string; d: string }[] {
  const re = new RegExp(`<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="${role}" d="([^"]*)"`, 'g');
  return [...svg.matchAll(re)].map((m) => ({ label: m[1], d: m[2] }));
}

/** Every text element's content (legend entries, titles, axis labels). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

/** Vertices of an SVG path made of M/L commands. */
function vertices(d: string): [number, number][] {
  return [...d.matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('lineChart', () => {
  const opts = {
    title: 'Job delay p99 vs load',
    subtitle: 'alibaba2017 sample, 10k nodes',
    xLabel: 'offered load',
    yLabel: 'delay p99 (s)',
    series: [
      { name: 'parsync <latency-first>', points: [[0.5, 0.02], [0.8, 0.05], [0.95, 0.4]] as const },
      { name: 'state-sync', points: [[0.5, 0.03], [0.8, 0.2], [0.95, 3.5]] as const },
    ],
  };

  it('draws one line per series through every point, with names, title and axis labels', async () => {
    const svg = await lineChart(opts);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const t = texts(svg);
    for (const s of ['Job delay p99 vs load', 'alibaba2017 sample, 10k nodes', 'offered load', 'delay p99 (s)', 'parsync &lt;latency-first&gt;', 'state-sync']) {
      expect(t).toContain(s);
    }
    const lines = markPaths(svg, 'line mark');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => vertices(l.d).length)).toEqual([3, 3]);
    // Higher y is drawn higher (smaller SVG y): state-sync's last point is above parsync's.
    const [p, s] = lines.map((l) => vertices(l.d));
    expect(s[2][1]).toBeLessThan(p[2][1]);
    expect(p[0][0]).toBe(s[0][0]);
  });

  it('log y: points with y ≤ 0 or non-finite are left out', async () => {
    const svg = await lineChart({
      ...opts,
      logY: true,
      series: [{ name: 'a', points: [[1, 0], [2, 10], [3, 100], [4, Number.NaN], [5, 1000]] }],
    });
    const [line] = markPaths(svg, 'line mark');
    const v = vertices(line.d);
    expect(v).toHaveLength(3);
    // Equal ratios are equal steps on a log axis.
    expect(v[0][1] - v[1][1]).toBeCloseTo(v[1][1] - v[2][1], 3);
    expect((lineChartSpec({ ...opts, logY: true }) as { encoding?: { y?: unknown } }).encoding?.y).toMatchObject({ scale: { type: 'log' } });
  });

  it('is deterministic', async () => {
    expect(await lineChart(opts)).toBe(await lineChart(opts));
  });

  it('refuses a nonsensical size', () => {
    expect(() => lineChartSpec({ ...opts, width: 0 })).toThrow(RangeError);
  });
});

describe('barChart', () => {
  it('one bar per (category, series), heights proportional to the values', async () => {
    const svg = await barChart({
      title: 'Placements per second at saturation',
      xLabel: 'mode',
      yLabel: 'placements/s',
      series: [
        { name: '4 schedulers', points: [['latency-first', 1000], ['state-sync', 400]] },
        { name: '8 schedulers', points: [['latency-first', 2000], ['state-sync', 500]] },
      ],
    });
    const bars = markPaths(svg, 'bar');
    expect(bars).toHaveLength(4);
    const height = (d: string) => Number(/v([\d.]+)h/.exec(d)![1]);
    const byLabel = new Map(bars.map((b) => [b.label, height(b.d)]));
    const h = (mode: string, series: string) => [...byLabel].find(([l]) => l.includes(`mode: ${mode};`) && l.includes(`series: ${series}`))![1];
    expect(h('latency-first', '8 schedulers') / h('latency-first', '4 schedulers')).toBeCloseTo(2, 5);
    expect(h('state-sync', '4 schedulers') / h('latency-first', '4 schedulers')).toBeCloseTo(0.4, 5);
    const t = texts(svg);
    for (const s of ['4 schedulers', '8 schedulers', 'latency-first', 'state-sync', 'placements/s']) expect(t).toContain(s);
  });
});

describe('writeSvg', () => {
  it('creates the folder and writes the file', async () => {
    const svg = await lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 1], [1, 2]] }] });
    const path = join(tmp, 'nested', 'deeper', 'chart.svg');
    await writeSvg(path, svg);
    expect(readFileSync(path, 'utf8')).toBe(`${svg}\n`);
  });
});
