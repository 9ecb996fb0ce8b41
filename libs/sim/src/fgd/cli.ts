/**
 * `npm run fgd -- --policy fgd|bestfit|packing|dotprod|random --seed S [--schedulers N] [--mix trace|learned] [--json]`:
 * one run of the FGD experiment (docs/fgd.md). With --json it ends with one JSON line:
 * {"policy","seed","alloc_pct_at_100","alloc_pct_at_130","frag_rate_at_90"} (percent of the cell's
 * GPU milli; arrived demand as a percentage of the cell's GPU capacity).
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { GPU_POLICIES, runFgd, type GpuPolicy } from './run.ts';

function int(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  const cmd = new Command('fgd')
    .description('one run of the FGD experiment on the openb trace')
    .addOption(new Option('--policy <name>', 'scorer').choices(GPU_POLICIES as unknown as string[]).makeOptionMandatory())
    .requiredOption('--seed <n>', 'seed of the arrival shuffle', int('--seed', 0))
    .option('--schedulers <n>', 'scheduler replicas (1: FGD\'s sequential setting)', int('--schedulers', 1), 1)
    .addOption(new Option('--mix <kind>', 'FGD\'s task-shape mix').choices(['trace', 'learned']).default('trace'))
    .option('--window <n>', 'tasks in the learned mix window', int('--window', 1))
    .option('--resolution <n>', 'score resolution (100: FGD\'s integer scores; 0: exact)', int('--resolution', 0))
    .option('--json', 'end with one JSON line')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    return (e as { exitCode?: number }).exitCode === 0 ? 0 : 2;
  }
  const o = cmd.opts<{ policy: GpuPolicy; seed: number; schedulers: number; mix: 'trace' | 'learned'; window?: number; resolution?: number; json?: boolean }>();
  if (o.schedulers !== 1) {
    process.stderr.write('fgd: --schedulers > 1 runs through the simulator engine (see docs/fgd.md)\n');
  }
  const started = performance.now();
  const r = await runFgd({ policy: o.policy, seed: o.seed, mix: o.mix, window: o.window, resolution: o.resolution });
  const line = { policy: r.policy, seed: r.seed, alloc_pct_at_100: r.alloc_pct_at_100, alloc_pct_at_130: r.alloc_pct_at_130, frag_rate_at_90: r.frag_rate_at_90 };
  if (!o.json) {
    process.stdout.write(`${r.policy} seed ${r.seed}: ${r.pods} pods, ${r.placed} placed, ${r.failed} not; GPU allocation ${r.alloc_pct_at_100}% at 100% arrived, ${r.alloc_pct_at_130}% at 130%; fragmentation ${r.frag_rate_at_90}% at 90% (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  } else {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  return 0;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`fgd: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
