/** Every service answers `--help` with its flags (from its own flag schema) and exits 0. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeTsArgs } from '@tessera/launcher';

describe.each([
  ['node-agent', ['--driver sim|exec', '--heartbeat-ms N', '--nats VALUE']],
  ['scheduler', ['--mode latency-first|quality-first|adaptive|state-sync', '--index N', '--sync-ms X']],
  ['cell-state', ['--partitions N', '--heartbeat-timeout-ms N']],
])('%s --help', (service, flags) => {
  it('prints its flags and exits 0', () => {
    const out = execFileSync(process.execPath, nodeTsArgs(`services/${service}/src/main.ts`, ['--help']), { encoding: 'utf8', timeout: 30_000 });
    expect(out).toMatch(new RegExp(`^usage: ${service} `));
    for (const f of flags) expect(out).toContain(f);
  });
});
