/**
 * One real nats-server with the generated accounts and permissions (`@tessera/launcher` auth) and
 * one cell-state connected as its identity, for the security tests: every other client connects
 * as the identity under test.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect, type NatsConnection, type PermissionViolationError } from '@nats-io/transport-node';
import { prepareCellAuth, type CellAuth } from '@tessera/launcher';
import { subjectsFor, type Identity, type Subjects } from '@tessera/protocol';
import { connectionOptionsOf } from '@tessera/runtime';
import { startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { CELL_STATE, cellStateArgs } from '../cell-state/helpers.ts';

export const CELL = 'sec';

export interface AuthEnv {
  readonly dir: string;
  readonly auth: CellAuth;
  readonly ns: NatsServerHandle;
  readonly cs: ServiceProcess;
  readonly s: Subjects;
  /** A connection as `id`, with the permission violations the server sent it. */
  as(id: Identity): Promise<Client>;
  stop(): Promise<void>;
}

export interface Client {
  readonly nc: NatsConnection;
  readonly violations: PermissionViolationError[];
  /** Publishes (empty payload) and returns whether the server denied it. */
  publishDenied(subject: string): Promise<boolean>;
  /** Subscribes and returns whether the server denied it (the subscription is removed again). */
  subscribeDenied(subject: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startAuthEnv(o: { agents: string[]; tenants: string[] }): Promise<AuthEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sec-'));
  const s = subjectsFor(CELL);
  const auth = prepareCellAuth({ subjects: s, cellDir: dir, agents: o.agents, tenants: o.tenants });
  // nats-server resolves includes relative to the config file (absolute paths are not taken).
  const natsDir = join(dir, 'nats');
  mkdirSync(natsDir);
  const ns = await startNatsServer({ dataDir: natsDir, extraConfig: `include ${JSON.stringify(relative(natsDir, auth.accountsFile))}` });
  const cs = await startServiceProcess({
    entry: CELL_STATE, args: cellStateArgs(ns.url, ['--cell', CELL, '--nats-auth', auth.credentialsFile({ role: 'cell-state' }), '--heartbeat-timeout-ms', '600000']),
  });
  const clients: Client[] = [];
  const as = async (id: Identity): Promise<Client> => {
    const nc = await connect({ ...connectionOptionsOf(auth.credentials(id)), servers: ns.url });
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const st of nc.status()) {
        if (st.type === 'error' && st.error.name === 'PermissionViolationError') violations.push(st.error as PermissionViolationError);
      }
    })();
    const deniedAfter = async (op: 'publish' | 'subscription', subject: string, act: () => void): Promise<boolean> => {
      const before = violations.length;
      act();
      await nc.flush();
      // The -ERR comes before the PONG of the flush; one more round trip for good measure.
      await nc.flush();
      return violations.slice(before).some((v) => v.operation === op && v.subject === subject);
    };
    const c: Client = {
      nc, violations,
      publishDenied: (subject) => deniedAfter('publish', subject, () => nc.publish(subject)),
      subscribeDenied: async (subject) => {
        const sub = nc.subscribe(subject, { callback: () => undefined });
        const denied = await deniedAfter('subscription', subject, () => undefined);
        if (!sub.isClosed()) sub.unsubscribe();
        return denied;
      },
      close: () => nc.close(),
    };
    clients.push(c);
    return c;
  };
  return {
    dir, auth, ns, cs, s, as,
    stop: async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await cs.kill('SIGKILL').catch(() => undefined);
      await ns.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
