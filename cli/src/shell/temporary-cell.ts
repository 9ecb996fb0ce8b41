/**
 * `tessera replay` without a running cell: start a temporary one (its own cell name and data
 * folder under the OS temp dir), run, and stop it again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCell } from '@tessera/launcher';
import { CliError } from './errors.ts';
import { resolveTarget, type GlobalOptions } from './target.ts';

export interface TemporaryCellOptions {
  readonly machines?: string;
  readonly nodes?: number;
  readonly timeScale: number;
}

export async function withTemporaryCell(g: GlobalOptions, o: TemporaryCellOptions, run: (g: GlobalOptions) => Promise<void>, err: (s: string) => void): Promise<void> {
  let found = true;
  try {
    resolveTarget(g);
  } catch (e) {
    if (!(e instanceof CliError) || g.nats !== undefined) throw e;
    found = false;
  }
  if (found) {
    if (o.machines !== undefined || o.nodes !== undefined) err('tessera: replaying against the running cell; --machines/--nodes only apply when no cell is running');
    await run(g);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), 'tessera-replay-'));
  const cell = `replay-${process.pid}`;
  err(`tessera: no cell running: starting a temporary one (${o.machines ?? `${o.nodes ?? 1000} nodes`}, time scale ${o.timeScale})…`);
  const handle = await startCell({ cell, dataDir: join(base, cell), machines: o.machines, nodes: o.nodes ?? (o.machines ? undefined : 1000), timeScale: o.timeScale, resources: g.resources.split(',') })
    .catch((e: Error) => { rmSync(base, { recursive: true, force: true }); throw new CliError(`the temporary cell did not start: ${e.message}`); });
  const stop = async () => { await handle.stop(); rmSync(base, { recursive: true, force: true }); };
  const onSignal = () => { void stop().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  try {
    await run({ ...g, cell, dataDir: base });
  } finally {
    process.off('SIGINT', onSignal);
    await stop();
  }
}
