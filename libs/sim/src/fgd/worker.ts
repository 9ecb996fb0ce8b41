/** Child process of the FGD experiment: runs the FgdRunOptions it is sent and answers with the result. */
import { runFgdParallel, type FgdParallelOptions } from './parallel.ts';
import { runFgd, type FgdRunOptions } from './run.ts';

process.on('message', (m: { id: number; options: FgdRunOptions | FgdParallelOptions }) => {
  const run = 'schedulers' in m.options ? runFgdParallel(m.options) : runFgd(m.options);
  run.then(
    (result) => process.send!({ id: m.id, result }),
    (e: unknown) => process.send!({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
