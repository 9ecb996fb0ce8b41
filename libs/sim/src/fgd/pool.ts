/** Runs FGD experiment runs in `workers` child processes and returns the results in run order. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FgdRunOptions, FgdRunResult } from './run.ts';

type Reply = { id: number; result?: FgdRunResult & Record<string, unknown>; error?: string };

export async function runFgdAll<O extends FgdRunOptions, R extends FgdRunResult>(runs: readonly O[], workers: number, log: (line: string) => void, label: (o: O) => string): Promise<R[]> {
  const out = new Array<R>(runs.length);
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ChildProcess[] = [];
  let next = 0;
  let done = 0;
  const started = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      if (runs.length === 0) resolve();
      const feed = (c: ChildProcess) => {
        if (next >= runs.length) {
          c.disconnect();
          return;
        }
        const id = next++;
        c.send({ id, options: runs[id] });
      };
      for (let w = 0; w < Math.max(1, Math.min(workers, runs.length)); w++) {
        const c = fork(worker, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(c);
        c.on('message', (m: Reply) => {
          if (m.result === undefined) {
            reject(new Error(`${label(runs[m.id])}: ${m.error ?? 'no result'}`));
            return;
          }
          out[m.id] = m.result as R;
          const r = m.result;
          log(`  [${++done}/${runs.length}] ${label(runs[m.id])}: alloc ${r.alloc_pct_at_100}% at 100%, ${r.alloc_pct_at_130}% at 130%, frag ${r.frag_rate_at_90}% at 90% (${((performance.now() - started) / 1000).toFixed(0)} s)`);
          if (done === runs.length) resolve();
          else feed(c);
        });
        c.on('exit', (code) => {
          if (code !== 0 && done < runs.length) reject(new Error(`an FGD worker exited with code ${code}`));
        });
        feed(c);
      }
    });
  } finally {
    for (const c of children) if (c.connected) c.disconnect();
  }
  return out;
}
