/**
 * `tessera up --tls`: the CA and server certificate made with the openssl CLI, a nats-server
 * requiring TLS with the generated accounts; a client trusting the CA connects with its
 * credentials, a plaintext client or one that does not trust the CA is refused.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCellAuth, type CellAuth } from '@tessera/launcher';
import { subjectsFor } from '@tessera/protocol';
import { connectionOptionsOf } from '@tessera/runtime';
import { startNatsServer, type NatsServerHandle } from '@tessera/testkit';

let dir: string;
let auth: CellAuth;
let ns: NatsServerHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-tls-'));
  auth = prepareCellAuth({ subjects: subjectsFor('tls'), cellDir: dir, agents: [], tenants: ['default'], tls: true });
  const natsDir = join(dir, 'nats');
  mkdirSync(natsDir);
  ns = await startNatsServer({
    dataDir: natsDir,
    extraConfig: [`tls { cert_file: ${JSON.stringify(auth.tls!.cert)}, key_file: ${JSON.stringify(auth.tls!.key)} }`, `include ${JSON.stringify(relative(natsDir, auth.accountsFile))}`].join('\n'),
  });
});
afterAll(async () => {
  await ns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('NATS over TLS', () => {
  it('keeps the keys private and puts the CA in every credentials file', () => {
    expect(statSync(auth.tls!.key).mode & 0o077).toBe(0);
    expect(statSync(join(auth.authDir, 'users.json')).mode & 0o077).toBe(0);
    expect(auth.credentials({ role: 'admin' }).ca).toBe(auth.tls!.ca);
  });

  it('lets a client that trusts the CA in with its credentials, and refuses plaintext or an untrusted server', async () => {
    const nc = await connect({ ...connectionOptionsOf(auth.credentials({ role: 'admin' })), servers: ns.url });
    expect(nc.info?.tls_required).toBe(true);
    await nc.flush();
    await nc.close();
    const admin = auth.credentials({ role: 'admin' });
    await expect(connect({ servers: ns.url, user: admin.user, pass: admin.pass, reconnect: false, timeout: 3_000 })).rejects.toThrow();
    await expect(connect({ servers: ns.url, user: admin.user, pass: admin.pass, tls: {}, reconnect: false, timeout: 3_000 })).rejects.toThrow();
  });
});
