/** deploy/prometheus: the rule files and the scrape config pass promtool, and the alerts' promtool tests pass. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@tessera/launcher';

const dir = join(REPO_ROOT, 'deploy/prometheus');
const promtool = (...args: string[]) => execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('promtool', () => {
  it('checks the rules and the config', () => {
    expect(promtool('check', 'rules', 'rules/tessera.rules.yml', 'rules/tessera.alerts.yml')).toMatch(/SUCCESS: 12 rules found[\s\S]*SUCCESS: 10 rules found/);
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/valid prometheus config/);
  });
  it('runs the alerts\' unit tests', () => {
    expect(promtool('test', 'rules', 'tests/alerts.test.yml')).toMatch(/SUCCESS/);
  });
});
