/**
 * @tessera/plots: SVG charts from data, for the simulator's experiment docs and the benchmark
 * report.
 *
 * A chart is a Vega-Lite spec built from plain series, compiled to Vega and rendered headless in
 * Node (`renderer: 'none'` + `toSVG()`): no browser, no canvas, no font files. Without a canvas,
 * Vega estimates text widths from a built-in table, which is good enough for axis labels and
 * legends. Output is deterministic for the same input, so committed figures only change when the
 * data do.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export type Point = readonly [x: number, y: number];

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
}

interface ChartCommon {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Log-scale y axis. Points with y ≤ 0 cannot be drawn on it and are left out. */
  readonly logY?: boolean;
  /** Plot area in pixels (default 560 × 320). */
  readonly width?: number;
  readonly height?: number;
  /** A line under the title (e.g. the run's parameters). */
  readonly subtitle?: string;
}

export interface LineChartOptions extends ChartCommon {
  readonly series: readonly Series[];
  /** Log-scale x axis (points with x ≤ 0 are left out). */
  readonly logX?: boolean;
  /** Mark each point (default true when a series has ≤ 50 points). */
  readonly markPoints?: boolean;
}

export type BarPoint = readonly [category: string | number, y: number];

export interface BarSeries {
  readonly name: string;
  readonly points: readonly BarPoint[];
}

export interface BarChartOptions extends ChartCommon {
  /** One bar per (category, series); several series are drawn side by side in each category. */
  readonly series: readonly BarSeries[];
}

interface Row {
  readonly series: string;
  readonly x: number | string;
  readonly y: number;
  /** Insertion order, to keep categories in the order given. */
  readonly order: number;
}

const CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  background: 'white',
  view: { stroke: null },
  axis: { grid: true, gridOpacity: 0.5, labelFontSize: 11, titleFontSize: 12 },
  // Series names are the point of a legend: do not cut them at Vega's default 160 px.
  legend: { labelFontSize: 11, orient: 'right', labelLimit: 480 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' },
} as const;

/** Finite points only, and only those a log axis can show. */
function rowsOf(series: readonly { name: string; points: readonly (readonly [number | string, number])[] }[], logX: boolean, logY: boolean): Row[] {
  const rows: Row[] = [];
  for (const s of series) {
    for (const [x, y] of s.points) {
      if (!Number.isFinite(y) || (logY && y <= 0)) continue;
      if (typeof x === 'number' && (!Number.isFinite(x) || (logX && x <= 0))) continue;
      rows.push({ series: s.name, x, y, order: rows.length });
    }
  }
  return rows;
}

function titleOf(o: ChartCommon) {
  return o.subtitle !== undefined ? { text: o.title, subtitle: o.subtitle } : { text: o.title };
}

function checkSize(o: ChartCommon): { width: number; height: number } {
  const width = o.width ?? 560;
  const height = o.height ?? 320;
  if (!(width > 0 && height > 0 && Number.isFinite(width) && Number.isFinite(height))) {
    throw new RangeError(`chart size must be positive and finite, got ${width} × ${height}`);
  }
  return { width, height };
}

/** The Vega-Lite spec of a line chart (exported for inspection and custom rendering). */
export function lineChartSpec(o: LineChartOptions): TopLevelSpec {
  const { width, height } = checkSize(o);
  const rows = rowsOf(o.series, o.logX === true, o.logY === true);
  const markPoints = o.markPoints ?? o.series.every((s) => s.points.length <= 50);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: titleOf(o),
    width,
    height,
    config: CONFIG,
    data: { values: rows },
    mark: { type: 'line', point: markPoints, strokeWidth: 2, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xLabel, scale: o.logX ? { type: 'log' } : { zero: false } },
      y: { field: 'y', type: 'quantitative', title: o.yLabel, scale: o.logY ? { type: 'log' } : {} },
      color: { field: 'series', type: 'nominal', title: null, sort: o.series.map((s) => s.name) },
      // Connect points in the order given, not sorted by x (a series may double back).
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'y' }],
    },
  } as TopLevelSpec;
}

/** The Vega-Lite spec of a grouped bar chart. */
export function barChartSpec(o: BarChartOptions): TopLevelSpec {
  const { width, height } = checkSize(o);
  const rows = rowsOf(o.series, false, o.logY === true).map((r) => ({ ...r, x: String(r.x) }));
  const categories = [...new Set(rows.map((r) => r.x))];
  const names = o.series.map((s) => s.name);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: titleOf(o),
    width,
    height,
    config: CONFIG,
    data: { values: rows },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'x', type: 'nominal', title: o.xLabel, sort: categories, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', type: 'nominal', sort: names },
      y: { field: 'y', type: 'quantitative', title: o.yLabel, scale: o.logY ? { type: 'log' } : {} },
      color: { field: 'series', type: 'nominal', title: null, sort: names },
      tooltip: [{ field: 'series' }, { field: 'x' }, { field: 'y' }],
    },
  } as TopLevelSpec;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return renumberClipIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Vega numbers clip paths from a process-wide counter, so the same chart would differ from run to
 * run; renumbering them in document order makes the SVG a pure function of the data.
 */
function renumberClipIds(svg: string): string {
  const ids = new Map<string, string>();
  return svg.replace(/(id="|url\(#)(clip\d+)/g, (_m, lead: string, id: string) => {
    let n = ids.get(id);
    if (n === undefined) {
      n = `clip${ids.size + 1}`;
      ids.set(id, n);
    }
    return lead + n;
  });
}

export async function lineChart(o: LineChartOptions): Promise<string> {
  return renderSvg(lineChartSpec(o));
}

export async function barChart(o: BarChartOptions): Promise<string> {
  return renderSvg(barChartSpec(o));
}

/** Writes an SVG file, creating its folder. */
export async function writeSvg(path: string, svg: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, svg.endsWith('\n') ? svg : `${svg}\n`, 'utf8');
}
