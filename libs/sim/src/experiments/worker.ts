/** An experiment worker: runs the simulations its parent sends, one at a time. */
import { runSimulation, type RunOptions } from '../run.ts';

process.on('message', (m: { id: number; options: RunOptions }) => {
  runSimulation(m.options, true).then(
    (summary) => process.send!({ id: m.id, summary }),
    (e: unknown) => process.send!({ id: m.id, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
  );
});
