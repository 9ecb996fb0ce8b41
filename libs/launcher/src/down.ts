/**
 * Stopping a cell from its state file (`tessera down`), from another process than the one that
 * started it: ask the supervisor to stop (SIGTERM; it stops the services in order), and if it is
 * gone or does not finish in time, stop the services it left behind directly.
 *
 * A pid in an old state file may belong to an unrelated process by now, so a pid is only
 * signalled when its command line still looks like the service (checked in /proc where it exists).
 */
import { readFileSync } from 'node:fs';
import { isProcessAlive, type CellStateFile, type ServiceInfo } from './state-file.ts';

export interface StopReport {
  /** The supervisor was running and stopped the cell itself. */
  readonly supervisorStopped: boolean;
  /** Services that had to be signalled directly. */
  readonly signalled: string[];
  /** Services still alive after SIGKILL (should be empty). */
  readonly survivors: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return undefined;
  }
}

/** True when `pid` is alive and (where /proc exists) still runs what the state file says. */
export function looksLike(pid: number | undefined, what: 'supervisor' | ServiceInfo): boolean {
  if (!isProcessAlive(pid)) return false;
  const cmd = cmdline(pid!);
  if (cmd === undefined) return true;
  if (what === 'supervisor') return /tessera|cli\/src\/main|launcher|vitest|node/.test(cmd);
  return what.kind === 'nats' ? cmd.includes('nats-server') : cmd.includes(`services/${what.kind}/`);
}

async function waitDead(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !isProcessAlive(p))) return true;
    await sleep(100);
  }
  return pids.every((p) => !isProcessAlive(p));
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    try { process.kill(pid, sig); } catch { /* gone */ }
  }
}

export async function stopFromStateFile(state: CellStateFile, opts: { timeoutMs?: number } = {}): Promise<StopReport> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let supervisorStopped = false;
  if (state.supervisorPid !== process.pid && looksLike(state.supervisorPid, 'supervisor')) {
    process.kill(state.supervisorPid, 'SIGTERM');
    supervisorStopped = await waitDead([state.supervisorPid], timeoutMs);
  }
  // Whatever is still alive: agents first, NATS last, as the supervisor would.
  const order = ['node-agent', 'scheduler', 'cell-state', 'nats'];
  const left = state.services
    .filter((s) => s.pid !== undefined && looksLike(s.pid, s))
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  const signalled: string[] = [];
  for (const kind of order) {
    const group = left.filter((s) => s.kind === kind);
    for (const s of group) { signalGroup(s.pid!, 'SIGTERM'); signalled.push(s.name); }
    if (group.length > 0 && !(await waitDead(group.map((s) => s.pid!), 10_000))) {
      for (const s of group) signalGroup(s.pid!, 'SIGKILL');
      await waitDead(group.map((s) => s.pid!), 2_000);
    }
  }
  const survivors = left.filter((s) => isProcessAlive(s.pid)).map((s) => s.name);
  return { supervisorStopped, signalled, survivors };
}
