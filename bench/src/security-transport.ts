/**
 * `tsx bench/src/security-transport.ts [seconds] [rounds]`: the cost of NATS authentication and
 * TLS on tessera's transport, measured paired: three nats-servers (no auth, accounts + auth,
 * accounts + auth + TLS, configs from the launcher's auth module), one responder and one
 * requester per server (64 requests in flight, 2 KiB payloads, as a commit batch of ~20 claims),
 * alternating the three for `rounds` rounds of `seconds` each so machine-load drift hits them
 * alike. Prints requests/s per round and the medians, with the load average.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { prepareCellAuth } from '@tessera/launcher';
import { subjectsFor, type Identity } from '@tessera/protocol';
import { connectionOptionsOf, type NatsCredentials } from '@tessera/runtime';
import { startNatsServer, type NatsServerHandle } from '@tessera/testkit';

const seconds = Number(process.argv[2] ?? 3);
const rounds = Number(process.argv[3] ?? 5);
const s = subjectsFor('benchsec');
const payload = new Uint8Array(2048).fill(7);

interface Setup { name: string; ns: NatsServerHandle; client: NatsCredentials | undefined; server: NatsCredentials | undefined; dir: string }

async function setup(name: 'off' | 'auth' | 'tls'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-secbench-${name}-`));
  if (name === 'off') return { name, dir, ns: await startNatsServer({ dataDir: dir }), client: undefined, server: undefined };
  const auth = prepareCellAuth({ subjects: s, cellDir: dir, agents: [], tenants: [], tls: name === 'tls' });
  const natsDir = join(dir, 'nats');
  mkdirSync(natsDir);
  const tls = auth.tls !== undefined ? `tls { cert_file: ${JSON.stringify(auth.tls.cert)}, key_file: ${JSON.stringify(auth.tls.key)} }\n` : '';
  const ns = await startNatsServer({ dataDir: natsDir, extraConfig: `${tls}include ${JSON.stringify(relative(natsDir, auth.accountsFile))}` });
  const as = (id: Identity) => auth.credentials(id);
  // The scheduler → cell-state commit path: scheduler requests, cell-state answers.
  return { name, dir, ns, client: as({ role: 'scheduler' }), server: as({ role: 'cell-state' }) };
}

async function round(x: Setup): Promise<number> {
  const responder = await connect({ ...connectionOptionsOf(x.server), servers: x.ns.url });
  responder.subscribe(s.commit, { callback: (_e, m) => { m.respond(payload); } });
  await responder.flush();
  const nc: NatsConnection = await connect({ ...connectionOptionsOf(x.client), servers: x.ns.url });
  let done = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (Date.now() < end) {
      await nc.request(s.commit, payload, { timeout: 10_000 });
      done++;
    }
  }));
  await nc.close();
  await responder.close();
  return done / seconds;
}

const setups = [await setup('off'), await setup('auth'), await setup('tls')];
const results: Record<string, number[]> = { off: [], auth: [], tls: [] };
const load: number[][] = [];
for (let r = 0; r < rounds; r++) {
  for (const x of r % 2 === 0 ? setups : [...setups].reverse()) results[x.name].push(await round(x));
  load.push(loadavg().map((v) => Number(v.toFixed(2))));
  process.stderr.write(`round ${r + 1}: ${setups.map((x) => `${x.name} ${Math.round(results[x.name][r])}/s`).join(', ')}; load average ${load[r].join(' ')}\n`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(results.off);
process.stdout.write(`${JSON.stringify({ seconds, rounds, payloadBytes: payload.length, inFlight: 64, medians: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { requests_per_s: Math.round(median(v)), vs_off: Number((median(v) / base).toFixed(3)) }])), rounds_per_s: results, load_average: load })}\n`);
for (const x of setups) {
  await x.ns.stop();
  rmSync(x.dir, { recursive: true, force: true });
}
