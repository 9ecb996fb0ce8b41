/// <reference lib="dom" />
/**
 * The web console in Debian's headless chromium (playwright-core, never a downloaded browser)
 * against a real local cell: `tessera console` serves it; the page shows the cell's node count and
 * partitions, a job submitted with `tessera submit` appears with its state, the mode switch (with
 * its confirmation dialog) changes the schedulers' mode as their /metrics say, and a request
 * without the token is refused. Screenshot: test-results/console/console.png.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '@tessera/launcher';
import { startLoad, startOpsCell, type OpsCell } from './helpers.ts';

const CELL = 'consoletest';
const BIN = join(REPO_ROOT, 'cli/bin/tessera.mjs');
const OUT = join(REPO_ROOT, 'test-results/console');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let ops: OpsCell;
let consoleProc: ChildProcess;
let url: string;
let browser: Browser;
let page: Page;
let load: Awaited<ReturnType<typeof startLoad>>;

const cliArgs = () => ['--data-dir', join(ops.dir, 'cells'), '--cell', CELL];
function tessera(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...cliArgs(), ...args], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
  });
}

beforeAll(async () => {
  ops = await startOpsCell(CELL, { nodes: 300, partitions: 8, dataDirIn: 'cells' });
  load = await startLoad(ops, CELL, 5);
  consoleProc = spawn(process.execPath, [BIN, ...cliArgs(), 'console'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    consoleProc.stdout!.on('data', (d: Buffer) => { buf += d; const m = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(buf); if (m) resolve(m[1]); });
    consoleProc.once('exit', (code) => reject(new Error(`tessera console exited (${code}): ${buf}`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  consoleProc?.kill('SIGTERM');
  await load?.stop().catch(() => undefined);
  await ops?.close();
});

describe('web console', () => {
  it('refuses requests without the token, and serves only loopback', async () => {
    const base = new URL(url);
    expect((await fetch(`${base.origin}/api/jobs`)).status).toBe(401);
    expect((await fetch(`${base.origin}/api/mode`, { method: 'POST', body: '{"mode":"quality-first","confirm":true}' })).status).toBe(401);
  });

  it('shows the node count and the partitions', async () => {
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById('node-count')?.textContent === '300', undefined, { timeout: 20_000 });
    await page.waitForSelector('#partitions tbody tr[data-partition="7"]', { timeout: 10_000 });
    expect(await page.locator('#partitions tbody tr').count()).toBe(8);
    expect(await page.textContent('#partition-count')).toBe('8');
    expect(await page.textContent('#leader')).toBe('cell-state');
  });

  it('shows a job submitted with the CLI, with its state', async () => {
    const file = join(ops.dir, 'job.json');
    writeFileSync(file, JSON.stringify({ id: 'console-job-1', tenant: 'team-c', tasks: [{ name: 'web', count: 3, resources: { cpu_millis: 200, mem_mib: 128 }, duration_s: 600 }] }));
    const r = await tessera('submit', file);
    expect(r.stderr).toBe('');
    const row = page.locator('#jobs tbody tr[data-job="console-job-1"]');
    await row.waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => ['placed', 'running'].includes(document.querySelector<HTMLElement>('#jobs tr[data-job="console-job-1"]')?.dataset.state ?? ''), undefined, { timeout: 20_000 });
    expect(await row.textContent()).toMatch(/team-c/);
    await page.fill('#job-search', 'console-job');
    await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 1, undefined, { timeout: 10_000 });
    await page.fill('#job-search', '');
  });

  it('switches the schedulers\' mode after confirmation, as their /metrics say', async () => {
    const schedulers = ops.cell.services.filter((s) => s.kind === 'scheduler');
    const modeOf = async (metricsUrl: string) => /tessera_scheduler_mode\{mode="([a-z-]+)"[^}]*\} 1\b/.exec(await (await fetch(metricsUrl)).text())?.[1];
    for (const s of schedulers) expect(await modeOf(s.metricsUrl!)).toBe('latency-first');
    await page.selectOption('#mode-select', 'quality-first');
    await page.click('#mode-apply');
    await page.waitForSelector('#mode-dialog[open]');
    await page.click('#mode-confirm');
    await page.waitForFunction(() => /switched to quality-first/.test(document.getElementById('mode-result')?.textContent ?? ''), undefined, { timeout: 10_000 });
    for (const s of schedulers) expect(await modeOf(s.metricsUrl!)).toBe('quality-first');
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#schedulers tbody td.mode')).every((td) => td.textContent === 'quality-first'), undefined, { timeout: 10_000 });
    await page.waitForTimeout(3000); // a few more seconds of charts for the screenshot
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'console.png'), fullPage: true });
  }, 60_000);
});
