/**
 * Runs simulations in child processes, `workers` at a time (2 on this 2-core machine), and returns
 * the summaries in the order of the runs. Each run is a pure function of its options, so the
 * results do not depend on how runs are spread over workers. `wall_s` is removed (kept only in
 * the progress log), so result files are byte-identical from one execution to the next.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunOptions } from '../run.ts';
import type { Summary } from '../summary.ts';

export interface PoolRun {
  readonly label: string;
  readonly options: RunOptions;
}

type Reply = { id: number; summary?: Summary; error?: string };

export async function runAll(runs: readonly PoolRun[], workers: number, log: (line: string) => void): Promise<Summary[]> {
  const out = new Array<Summary>(runs.length);
  let next = 0;
  let done = 0;
  const started = performance.now();
  const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ChildProcess[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (child: ChildProcess) => {
        if (next >= runs.length) {
          child.disconnect();
          return;
        }
        const id = next++;
        child.send({ id, options: runs[id].options });
      };
      const n = Math.max(1, Math.min(workers, runs.length));
      if (runs.length === 0) resolve();
      for (let w = 0; w < n; w++) {
        const child = fork(worker, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        children.push(child);
        child.on('message', (m: Reply) => {
          if (m.error !== undefined || m.summary === undefined) {
            reject(new Error(`${runs[m.id].label}: ${m.error ?? 'no summary'}`));
            return;
          }
          const s = m.summary;
          log(`  [${++done}/${runs.length}] ${runs[m.id].label}: conflicts ${(s.conflict_fraction * 100).toFixed(2)}%, delay p50 ${s.delay_ms.p50.toFixed(0)} ms p99 ${s.delay_ms.p99.toFixed(0)} ms, util ${(s.utilization * 100).toFixed(1)}% (${s.wall_s?.toFixed(1)} s)`);
          delete s.wall_s;
          out[m.id] = s;
          if (done === runs.length) resolve();
          else feed(child);
        });
        child.on('exit', (code) => {
          if (code !== 0 && done < runs.length) reject(new Error(`an experiment worker exited with code ${code}`));
        });
        feed(child);
      }
    });
  } finally {
    for (const c of children) if (c.connected) c.disconnect();
  }
  log(`  ${runs.length} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return out;
}
