/**
 * `tessera up --detach --exec-agent`: besides the sim agents, an agent with the exec driver on
 * this host, so a job's `command` really runs (here it writes a file); `up` reports registration
 * progress; `down` stops it all.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@tessera/launcher';

const dir = mkdtempSync(join(tmpdir(), 'tessera-exec-'));
const tessera = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => new Promise((resolve) => {
  execFile(process.execPath, [join(REPO_ROOT, 'cli/bin/tessera.mjs'), '--data-dir', join(dir, 'cells'), '--cell', 'exectest', ...args], { timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : 1, stdout, stderr }));
});

afterAll(async () => {
  await tessera('down');
  rmSync(dir, { recursive: true, force: true });
});

describe('tessera up --exec-agent', () => {
  it('runs a job\'s command on this host', async () => {
    const up = await tessera('up', '--detach', '--nodes', '20', '--schedulers', '1', '--exec-agent', '--ready-timeout', '60');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/21 nodes/);
    expect(up.stdout).toMatch(/agent-exec\s+node-agent \(1 nodes\)/);
    const out = join(dir, 'ran.txt');
    const job = join(dir, 'job.json');
    // The exec node is labelled zone=host; the sim nodes are not.
    writeFileSync(job, JSON.stringify({ id: 'real', tenant: 't', tasks: [{ name: 'echo', count: 1, resources: { cpu_millis: 10, mem_mib: 1 }, command: ['sh', '-c', `echo ran on $(hostname) > ${out}`], constraints: [{ label: 'zone', op: 'in', values: ['host'] }] }] }));
    expect((await tessera('submit', job)).code).toBe(0);
    const deadline = Date.now() + 30_000;
    while (!existsSync(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(out, 'utf8')).toMatch(/^ran on /);
    const jobs = JSON.parse((await tessera('jobs', '--json')).stdout) as { id: string; tasks: { node?: string }[] }[];
    expect(jobs.find((j) => j.id === 'real')!.tasks[0].node).toBe('exec-000000');
  }, 120_000);
});
