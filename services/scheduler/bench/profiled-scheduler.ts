/**
 * Bench only: runs the scheduler (src/main.ts) under the V8 CPU profiler and writes
 * `scheduler-<pid>.cpuprofile` into $TESSERA_PROFILE_DIR when the process exits (node's
 * --cpu-prof cannot be passed through NODE_OPTIONS). Used by throughput.ts --profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.TESSERA_PROFILE_DIR ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('exit', () => {
  // The in-process session answers synchronously, so this completes inside the exit handler.
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(join(dir, `scheduler-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  });
});
await import('../src/main.ts');
