/**
 * The chaos command as a user runs it (`npm run chaos -- --minutes 2 --json`), as a real child
 * process: a local cell under ~50% load with every kind of process killed -9 at least once, then
 * the invariants checked from the commit log. The ten-minute soak is the same command with
 * `--minutes 10` (not part of the test suite).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TSX_IMPORT } from '@tessera/launcher';
import type { ChaosSummary } from '@tessera/chaos';

/** Runs the command; SIGTERM after `timeoutMs` (it then SIGKILLs its cell and exits). */
function runChaos(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX_IMPORT, 'chaos/src/main.ts', ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGTERM',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run chaos', () => {
  it('refuses a bad flag with exit 2 and the flag named', async () => {
    const r = await runChaos(['--minutes', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--minutes/);
  });

  it('two minutes of kill -9s under load lose nothing, place nothing twice and over-commit no node', async () => {
    const r = await runChaos(['--minutes', '2', '--seed', '2024', '--json'], 320_000);
    const lines = r.stdout.trim().split('\n');
    let s: ChaosSummary;
    try {
      s = JSON.parse(lines[lines.length - 1]) as ChaosSummary;
    } catch {
      throw new Error(`no JSON summary (exit ${r.code}); stderr tail:\n${r.stderr.slice(-3000)}`);
    }
    const context = `\n${r.stdout}\n${r.stderr.slice(-2000)}`;
    expect(s.lost_jobs, context).toBe(0);
    expect(s.duplicate_placements, context).toBe(0);
    expect(s.overcommits, context).toBe(0);
    // The preemption load (filler jobs) made the main jobs evict, and every victim came back.
    expect(s.preemption.evictions, context).toBeGreaterThan(0);
    expect(s.preemption.lost_victims, context).toBe(0);
    for (const kind of ['cell-state', 'scheduler', 'node-agent', 'nats'] as const) {
      expect(s.kills[kind], `${kind} kills${context}`).toBeGreaterThanOrEqual(1);
      expect(s.kills_survived[kind], `${kind} kills survived${context}`).toBe(s.kills[kind]);
    }
    expect(s.transactions).toBeGreaterThan(0);
    expect(s.jobs.acked).toBeGreaterThan(0);
    expect(s.recovery_s.max).not.toBeNull();
    expect(s.ok, context).toBe(true);
    expect(r.code, context).toBe(0);
    console.info(lines.slice(0, -1).filter((l) => !l.startsWith('>') && l.trim() !== '').join('\n'));
  }, 330_000);
});
