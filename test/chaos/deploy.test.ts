/**
 * The production configuration in deploy/ is written, not run here (no Docker engine, no
 * systemd): this checks what can be checked without running it. NATS configs pass
 * `nats-server -t` (the ≥ 2.10 ones are refused by Debian's 2.9.10 for `sync_interval` alone);
 * the compose file parses and every tessera command in it, and every unit's ExecStart with
 * tessera.env substituted, passes the service's own flag schema; the units pass
 * `systemd-analyze verify` where it exists.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cellStateFlags } from '@tessera/cell-state';
import { ensureCertificates, generateAuth, REPO_ROOT } from '@tessera/launcher';
import { subjectsFor } from '@tessera/protocol';
import { agentConfigSchema } from '@tessera/node-agent';
import { compileConfig } from '@tessera/runtime';
import { schedulerFlags } from '@tessera/scheduler';
import { natsServerBinary } from '@tessera/testkit';

const deploy = (...p: string[]) => join(REPO_ROOT, 'deploy', ...p);
const SCHEMAS = {
  'services/cell-state/src/main.ts': cellStateFlags,
  'services/scheduler/src/main.ts': schedulerFlags,
  'services/node-agent/src/main.ts': agentConfigSchema,
} as const;

/**
 * The configs include `auth/accounts.conf` and name certificates under /etc/tessera/auth, as
 * `tessera auth init --out /etc/tessera/auth` writes them: generated once here (the same code),
 * and each config checked from a copy pointing at them.
 */
const authHome = mkdtempSync(join(tmpdir(), 'tessera-deploy-auth-'));
const authDir = join(authHome, 'auth');
const authTls = ensureCertificates(join(authDir, 'tls'), { altNames: ['DNS:nats-1', 'DNS:nats-2', 'DNS:nats-3'] });
generateAuth({ subjects: subjectsFor('default'), authDir, agents: ['host-1'], tenants: ['default'], ca: authTls.ca });
afterAll(() => rmSync(authHome, { recursive: true, force: true }));

function natsTest(file: string): { ok: boolean; out: string } {
  const copy = join(authHome, basename(file));
  writeFileSync(copy, readFileSync(file, 'utf8').replaceAll('/etc/tessera/auth', authDir));
  const r = spawnSync(natsServerBinary(), ['-t', '-c', copy], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

function natsVersion(): [number, number] {
  const m = /v?(\d+)\.(\d+)/.exec(spawnSync(natsServerBinary(), ['--version'], { encoding: 'utf8' }).stdout ?? '');
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

/** Config text without comments and blank lines. */
const bare = (text: string) => text.split('\n').map((l) => l.replace(/#.*$/, '').trimEnd()).filter((l) => l.trim() !== '').join('\n');

/** Checks a service command line against that service's own flag schema. */
function checkCommand(entry: string, args: string[]): void {
  const schema = SCHEMAS[entry as keyof typeof SCHEMAS];
  expect(schema, `unknown entry ${entry}`).toBeDefined();
  expect(() => compileConfig(schema, args), `${entry} ${args.join(' ')}`).not.toThrow();
}

describe('deploy/nats', () => {
  for (const i of [1, 2, 3]) {
    it(`nats-2.9/nats-${i}.conf passes nats-server -t, and nats-${i}.conf differs from it only by sync_interval: always`, () => {
      const old = deploy('nats', 'nats-2.9', `nats-${i}.conf`);
      const cur = deploy('nats', `nats-${i}.conf`);
      const r = natsTest(old);
      expect(r.ok, r.out).toBe(true);
      const curText = bare(readFileSync(cur, 'utf8'));
      expect(curText).toMatch(/jetstream \{[^}]*\n {2}sync_interval: always\n\}/);
      expect(curText.replace(/\n\s*sync_interval: always/, '')).toBe(bare(readFileSync(old, 'utf8')));
      expect(readFileSync(cur, 'utf8')).toMatch(new RegExp(`server_name: nats-${i}\\n`));
      const [major, minor] = natsVersion();
      const t = natsTest(cur);
      if (major > 2 || (major === 2 && minor >= 10)) expect(t.ok, t.out).toBe(true);
      else expect(t.out).toMatch(/unknown field "sync_interval"/);
    });
  }
});

describe('deploy/compose', () => {
  const doc = parseYaml(readFileSync(deploy('compose', 'docker-compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[]; image?: string; volumes?: string[]; entrypoint?: string[] }>;
  };
  const services = Object.entries(doc.services);

  it('runs 3 NATS servers on the ≥ 2.10 configs, 2 cell-states, schedulers and a node agent', () => {
    const nats = services.filter(([, s]) => s.image?.startsWith('nats:'));
    expect(nats.map(([n]) => n)).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const [n, s] of nats) expect(s.volumes?.[0]).toBe(`../nats/${n}.conf:/etc/nats/${n}.conf:ro`);
    const count = (entry: string) => services.filter(([, s]) => s.command?.[0] === entry).length;
    expect(count('services/cell-state/src/main.ts')).toBe(2);
    expect(count('services/scheduler/src/main.ts')).toBeGreaterThanOrEqual(2);
    expect(count('services/node-agent/src/main.ts')).toBeGreaterThanOrEqual(1);
    for (const [n] of nats) expect(existsSync(deploy('nats', `${n}.conf`))).toBe(true);
  });

  it('every tessera command passes its service\'s flag schema, with R3 streams and all three NATS URLs', () => {
    for (const [name, s] of services) {
      if (s.command === undefined || s.image?.startsWith('nats:')) continue;
      const [entry, ...args] = s.command;
      checkCommand(entry, args);
      expect(args[args.indexOf('--nats') + 1], name).toBe('nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222');
      if (entry !== 'services/node-agent/src/main.ts') expect(args[args.indexOf('--replicas') + 1], name).toBe('3');
    }
    const indexes = services.filter(([, s]) => s.command?.[0] === 'services/scheduler/src/main.ts').map(([, s]) => s.command!);
    for (const c of indexes) expect(Number(c[c.indexOf('--count') + 1])).toBe(indexes.length);
  });
});

describe('deploy/systemd', () => {
  const dir = deploy('systemd');
  const env = Object.fromEntries(readFileSync(join(dir, 'tessera.env'), 'utf8').split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const units = readdirSync(dir).filter((f) => f.endsWith('.service'));

  it('sets R3 and all three NATS servers', () => {
    expect(env.TESSERA_REPLICAS).toBe('3');
    expect(env.TESSERA_NATS.split(',')).toHaveLength(3);
  });

  it.each(units.filter((u) => u.startsWith('tessera-') && u !== 'tessera-nats.service'))('%s: ExecStart passes the service\'s flag schema', (unit) => {
    const text = readFileSync(join(dir, unit), 'utf8');
    const lines = text.split('\n');
    let i = lines.findIndex((l) => l.startsWith('ExecStart='));
    let exec = lines[i].slice('ExecStart='.length);
    while (exec.endsWith('\\')) exec = `${exec.slice(0, -1)} ${lines[++i]}`;
    const vars: Record<string, string> = { ...env, SCHEDULER_HTTP_PORT: '9102', TESSERA_AGENT_ID: 'host-1' };
    const words = exec.split(/\s+/).filter((w) => w !== '')
      .map((w) => w.replace(/\$\{([A-Z_]+)\}/g, (_m, k: string) => vars[k] ?? `<unset ${k}>`).replace(/%i/g, '0').replace(/%[Hl]/g, 'host-1'));
    expect(words.slice(0, 3)).toEqual(['/usr/bin/node', '--import', 'tsx']);
    checkCommand(words[3], words.slice(4));
  });

  it.runIf(spawnSync('systemd-analyze', ['--version']).status === 0)('every unit passes systemd-analyze verify without a warning', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tessera-units-'));
    for (const u of units) {
      // A template is verified as one of its instances.
      const name = u.replace('@.service', '@0.service');
      copyFileSync(join(dir, u), join(tmp, name));
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', join(tmp, name)], { encoding: 'utf8' });
      const complaints = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes(name));
      expect(complaints, u).toEqual([]);
    }
    rmSync(tmp, { recursive: true, force: true });
  });
});
