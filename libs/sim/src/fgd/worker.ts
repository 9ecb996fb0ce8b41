/** Child process of the FGD experiment: runs the FgdRunOptions it is sent and answers with the result. */
import { runFgd, type FgdRunOptions } from './run.ts';

process.on('message', (m: { id: number; options: FgdRunOptions }) => {
  runFgd(m.options).then(
    (result) => process.send!({ id: m.id, result }),
    (e: unknown) => process.send!({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
