/**
 * `npm run chaos -- --minutes M [--seed S] [--json]`: see run.ts and docs/operations.md.
 * Exit status: 0 every invariant held; 1 an invariant was violated (or a kill kind was not
 * exercised); 2 bad flags; 3 the harness itself failed (the cell did not start, …).
 */
import { rmSync } from 'node:fs';
import { ChaosUsageError, parseChaosArgs, type ChaosOptions } from './options.ts';
import { humanSummary } from './report.ts';
import { runChaos } from './run.ts';

async function main(): Promise<number> {
  let o: ChaosOptions;
  try {
    o = parseChaosArgs(process.argv.slice(2), String(Date.now() % 1_000_000));
  } catch (e) {
    if (e instanceof ChaosUsageError) {
      process.stderr.write(`chaos: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const t0 = Date.now();
  const progress = (line: string) => process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    progress(`${sig}: the run is abandoned; stopping the cell (again to force)`);
    // The exit hook in runChaos SIGKILLs whatever is still running.
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { summary, dataDir } = await runChaos(o, progress);
    process.stdout.write(`${humanSummary(summary)}\n`);
    if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.ok && !o.keep && o.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    else progress(`logs and NATS data kept in ${dataDir}`);
    return summary.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`chaos: ${(e as Error).message}\n`);
    return 3;
  }
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`chaos: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(3);
});
