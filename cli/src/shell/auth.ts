/**
 * `tessera auth show ROLE [--agent ID] [--tenant T] [--json]`: what a NATS client needs to connect
 * as one identity of the local cell (`{url, user, pass, inboxPrefix, ca?}`, DESIGN §13), or of a
 * deployment's auth folder (`--auth-dir`, with `--nats`).
 * `tessera auth init --out DIR`: the same folder for a production deployment (deploy/): the
 * accounts file the NATS configs include, one credentials file per identity for N agents and
 * T tenants, and a CA + server certificate for TLS.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AuthError, credentialsOf, credentialsPath, ensureCertificates, generateAuth, readAuthFile, TlsError } from '@tessera/launcher';
import { ROLES, subjectsFor, type Identity, type Role } from '@tessera/protocol';
import { CliError } from './errors.ts';
import { readLocalState, type GlobalOptions } from './target.ts';

function identityOf(role: string, agent?: string, tenant?: string): Identity {
  if (!(ROLES as readonly string[]).includes(role)) throw new CliError(`unknown role "${role}" (roles: ${ROLES.join(', ')})`, 2);
  const r = role as Role;
  if (r === 'agent' && agent === undefined) throw new CliError('role agent needs --agent ID', 2);
  if (r === 'submitter' && tenant === undefined) throw new CliError('role submitter needs --tenant T', 2);
  return { role: r, ...(r === 'agent' ? { agent } : {}), ...(r === 'submitter' ? { tenant } : {}) };
}

function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

type Globals = (cmd: Command) => GlobalOptions & Record<string, unknown>;

export function addAuthCommands(program: Command, globals: Globals, out: (s: string) => void, json: (v: unknown) => void): void {
  const auth = program.command('auth').description('NATS identities of a cell: show one, or generate them for a deployment');

  auth.command('show')
    .description(`connection details of one identity (roles: ${ROLES.join(', ')})`)
    .argument('<role>', 'role')
    .option('--agent <id>', 'the agent id (role agent)')
    .option('--tenant <t>', 'the tenant (role submitter)')
    .option('--auth-dir <dir>', 'a deployment\'s auth folder (from auth init) instead of the local cell\'s')
    .option('--json', '{url, user, pass, inboxPrefix, ca?}', false)
    .action((role: string, _o, cmd: Command) => {
      const g = globals(cmd);
      const id = identityOf(role, g.agent as string | undefined, g.tenant as string | undefined);
      const state = g.authDir === undefined ? readLocalState(g) : undefined;
      const dir = (g.authDir as string | undefined) ?? state?.authDir;
      if (dir === undefined) {
        throw new CliError(state === undefined ? `no local cell "${g.cell}": start one with 'tessera up' or pass --auth-dir` : `the local cell "${g.cell}" runs without auth (started with --no-auth)`);
      }
      const url = g.nats ?? state?.natsUrl;
      if (url === undefined) throw new CliError('--auth-dir needs --nats URL (the servers the credentials are for)', 2);
      try {
        const a = readAuthFile(resolve(dir));
        if (a === undefined) throw new CliError(`no users.json in ${dir}`);
        const c = credentialsOf(a, id);
        const shown = { url, ...c, credentialsFile: credentialsPath(resolve(dir), id) };
        if (g.json) json(shown);
        else out(Object.entries(shown).map(([k, v]) => `${k}: ${v}`).join('\n'));
      } catch (e) {
        if (e instanceof AuthError) throw new CliError(e.message, 1, { cause: e });
        throw e;
      }
    });

  auth.command('init')
    .description('write a deployment\'s NATS accounts file, credentials (N agents, T tenants) and TLS certificates')
    .requiredOption('--out <dir>', 'the auth folder (e.g. /etc/tessera/auth); existing secrets are kept')
    .option('--agents <n>', 'agents agent-0 … agent-(n-1)', '0')
    .option('--agent-ids <list>', 'agent ids besides --agents (comma separated)')
    .option('--tenants <list>', 'tenants that get a submitter identity', 'default')
    .option('--no-tls', 'no CA and server certificate')
    .option('--tls-names <list>', 'the server certificate\'s names (DNS:host or IP:addr)', 'DNS:localhost,IP:127.0.0.1,DNS:nats-1,DNS:nats-2,DNS:nats-3')
    .option('--json', 'list what was written as JSON', false)
    .action((_o, cmd: Command) => {
      const g = globals(cmd);
      const n = Number(g.agents);
      if (!Number.isInteger(n) || n < 0) throw new CliError('--agents: must be an integer ≥ 0', 2);
      const agents = [...Array.from({ length: n }, (_, i) => `agent-${i}`), ...list(g.agentIds as string | undefined)];
      const dir = resolve(g.out as string);
      try {
        const tls = g.tls !== false ? ensureCertificates(resolve(dir, 'tls'), { altNames: list(g.tlsNames as string) }) : undefined;
        const a = generateAuth({ subjects: subjectsFor(g.cell), authDir: dir, agents, tenants: list(g.tenants as string), ca: tls?.ca });
        const written = {
          accounts: resolve(dir, 'accounts.conf'), users: a.users.map((u) => ({ role: u.identity.role, agent: u.identity.agent, tenant: u.identity.tenant, credentials: credentialsPath(dir, u.identity) })),
          ...(tls !== undefined ? { tls } : {}),
        };
        if (g.json) json(written);
        else out(`wrote ${written.accounts} (include it from the NATS config), ${a.users.length} credentials files under ${resolve(dir, 'creds')}${tls !== undefined ? `, TLS certificates under ${resolve(dir, 'tls')}` : ''}`);
      } catch (e) {
        if (e instanceof AuthError || e instanceof TlsError || e instanceof RangeError) throw new CliError(e.message, 1, { cause: e });
        throw e;
      }
    });
}
