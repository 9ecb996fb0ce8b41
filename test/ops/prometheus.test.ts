/**
 * deploy/prometheus and deploy/grafana against the real thing: Debian's `prometheus` scrapes a
 * real local cell (cell-state, 2 schedulers, a sim agent) under a steady job load, evaluates the
 * repository's recording rules and alerts, and every recording rule and every dashboard panel's
 * query returns data. The rules load with no evaluation error and no critical alert fires.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, REPO_ROOT } from '@tessera/launcher';
import { startLoad, startOpsCell, type OpsCell } from './helpers.ts';

const RULES = ['tessera.rules.yml', 'tessera.alerts.yml'].map((f) => join(REPO_ROOT, 'deploy/prometheus/rules', f));
let ops: OpsCell;
let prom: ChildProcess;
let promUrl: string;
let load: Awaited<ReturnType<typeof startLoad>>;

interface PromResult { metric: Record<string, string>; value: [number, string] }

async function query(expr: string): Promise<PromResult[]> {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = await r.json() as { status: string; error?: string; data: { result: PromResult[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data.result;
}

/** Every expression answers with at least one number (NaN, e.g. a quantile of no observations, does not count) within the deadline; returns what still does not. */
async function untilAllAnswer(exprs: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let missing = [...exprs];
  while (missing.length > 0 && Date.now() < deadline) {
    const still: string[] = [];
    for (const e of missing) if (!(await query(e)).some((r) => Number.isFinite(Number(r.value[1])))) still.push(e);
    missing = still;
    if (missing.length > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  return missing;
}

const hostPort = (url: string) => new URL(url).host;

beforeAll(async () => {
  ops = await startOpsCell('promtest');
  const dir = join(ops.dir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const byKind = (k: string) => ops.cell.services.filter((s) => s.kind === k && s.metricsUrl !== undefined).map((s) => hostPort(s.metricsUrl!));
  // The repository's scrape jobs, with this cell's targets inline and a 1 s interval so rate() over 1m has samples quickly.
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: RULES,
    scrape_configs: (['cell-state', 'scheduler', 'node-agent'] as const).map((k) => ({ job_name: `tessera-${k}`, static_configs: [{ targets: byKind(k) }] })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  load = await startLoad(ops, 'promtest', 10);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await fetch(`${promUrl}/-/ready`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}, 120_000);

afterAll(async () => {
  await load?.stop().catch(() => undefined);
  prom?.kill('SIGTERM');
  await ops?.close();
});

describe('prometheus against a real cell', () => {
  it('scrapes every service of the cell', async () => {
    const targets = ops.cell.services.filter((s) => s.kind !== 'nats').length;
    const missing = await untilAllAnswer(['up{job="tessera-cell-state"} == 1', 'up{job="tessera-scheduler"} == 1', 'up{job="tessera-node-agent"} == 1', `count(up == 1) == ${targets}`], 20_000);
    expect(missing).toEqual([]);
  });

  it('every recording rule and every dashboard query returns data; rules evaluate cleanly', async () => {
    const recorded = RULES.flatMap((f) => (parse(readFileSync(f, 'utf8')) as { groups: { rules: { record?: string }[] }[] }).groups)
      .flatMap((g) => g.rules).flatMap((r) => (r.record !== undefined ? [r.record] : []));
    expect(recorded.length).toBeGreaterThanOrEqual(12);
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/grafana/tessera.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const panelExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(panelExprs.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    const missing = await untilAllAnswer([...new Set([...recorded, ...panelExprs])], 60_000);
    expect(missing).toEqual([]);

    const rules = await (await fetch(`${promUrl}/api/v1/rules`)).json() as { data: { groups: { rules: { name: string; health: string; lastError?: string; state?: string; labels?: Record<string, string> }[] }[] } };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    expect(all.filter((r) => r.labels?.severity === 'critical' && r.state !== 'inactive').map((r) => r.name)).toEqual([]);
    expect(Number((await query('cell:tessera_scheduler_placements:rate1m'))[0].value[1])).toBeGreaterThan(0);
  }, 90_000);
});
