/**
 * The fuzz run (`npm run fuzz`, and a small one in `npm test`): a real nats-server, cell-state and
 * one scheduler; for every subject they serve, `perSubject` hostile messages (mutated, truncated,
 * oversized, type-confused; valid ones too on read-only subjects) sent as requests. Checks: every
 * invalid message gets a typed error reply (`{ok: false, error: {code, message}}` with a known
 * code), valid read-only ones a normal reply, no request goes unanswered, no process exits, and
 * the cell's listings, syncs and the scheduler's mode are the same after the run as before.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import fc from 'fast-check';
import { decodeRaw, ErrorCode, subjectsFor, type Subjects } from '@tessera/protocol';
import { startNatsServer, startServiceProcess, type NatsServerHandle, type ServiceProcess } from '@tessera/testkit';
import { CellClient, claim, eventually, txn } from '../cell-state/helpers.ts';
import { acceptedBy, encode, FUZZ_AGENT, FUZZ_RESOURCES, fuzzSubjects, hostile, type FuzzSubject, type Kind } from './messages.ts';

const CELL_STATE_MAX_BYTES = 16_384;
const KINDS: readonly { kind: Exclude<Kind, 'valid'>; weight: number }[] = [
  { kind: 'mutated', weight: 40 }, { kind: 'type-confused', weight: 30 }, { kind: 'truncated', weight: 20 }, { kind: 'oversized', weight: 2 },
];
const CODES = new Set<string>(Object.values(ErrorCode));

export interface SubjectReport {
  readonly subject: string;
  readonly sent: number;
  readonly byKind: Record<string, number>;
  /** Generated messages the validator took as valid on a subject where valid ones change state: not sent. */
  readonly validSkipped: number;
  readonly refusedByCode: Record<string, number>;
  readonly answeredOk: number;
  /** Failures: an invalid message answered ok, a reply that is not a typed error, no answer. */
  readonly problems: string[];
  readonly seconds: number;
}

export interface FuzzReport {
  readonly perSubject: number;
  readonly seed: number;
  readonly subjects: SubjectReport[];
  readonly crashed: string[];
  readonly stateChanged: string[];
  readonly seconds: number;
}

interface FuzzCell {
  readonly ns: NatsServerHandle;
  readonly cs: ServiceProcess;
  readonly scheduler: ServiceProcess;
  readonly nc: NatsConnection;
  readonly client: CellClient;
  readonly s: Subjects;
}

async function startFuzzCell(): Promise<FuzzCell> {
  const ns = await startNatsServer();
  const res = FUZZ_RESOURCES.join(',');
  const cs = await startServiceProcess({
    entry: 'services/cell-state/src/main.ts',
    args: ['--nats', ns.url, '--resources', res, '--partitions', '4', '--heartbeat-timeout-ms', '3600000', '--max-message-bytes', String(CELL_STATE_MAX_BYTES), '--log-level', 'error'],
  });
  const scheduler = await startServiceProcess({
    entry: 'services/scheduler/src/main.ts', args: ['--nats', ns.url, '--resources', res, '--mode', 'quality-first', '--log-level', 'error'],
  });
  const nc = await connect({ servers: ns.url });
  return { ns, cs, scheduler, nc, client: new CellClient(nc), s: subjectsFor('default') };
}

/** A small state for the messages to aim at: the fuzz agent's nodes, a job, a committed task. */
async function seed(c: FuzzCell): Promise<void> {
  await c.client.register(FUZZ_AGENT, [0, 1, 2, 3].map((i) => ({ id: `n${i}`, cpu: 4000, mem: 8192 })));
  await c.client.submitJob({ id: 'fz', tasks: [{ name: 't', count: 2, resources: { cpu_millis: 100, mem_mib: 16 } }] });
  await eventually(async () => (await c.client.jobs(['fz'])).items.length === 1, 10_000, 'the seed job listed');
  // The scheduler places the job (quality-first); wait until it has.
  await eventually(async () => (await c.client.jobs(['fz'])).items[0]?.state !== 'pending', 20_000, 'the seed job placed');
  const v = await c.client.nodeVersion('n3');
  await c.client.commit([txn([claim('other/t/0', 'n3', { cpu: 10 }, v, 'other')])]);
}

async function observable(c: FuzzCell): Promise<string> {
  const [jobs, nodes, partitions, sync] = await Promise.all([c.client.jobs(), c.client.nodes(), c.client.partitions(), c.client.syncAll()]);
  const metrics = await (await fetch(c.scheduler.metricsUrl!)).text();
  const mode = metrics.split('\n').filter((l) => l.startsWith('tessera_scheduler_mode{')).join('\n');
  return JSON.stringify({ jobs, nodes, partitions, sync, mode });
}

function typedError(reply: unknown): string | undefined {
  const r = reply as { ok?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  if (r === null || typeof r !== 'object' || r.ok !== false) return undefined;
  if (typeof r.error?.code !== 'string' || !CODES.has(r.error.code) || typeof r.error.message !== 'string') return undefined;
  return r.error.code;
}

async function fuzzSubject(c: FuzzCell, sub: FuzzSubject, perSubject: number, seedValue: number, window: number): Promise<SubjectReport> {
  const t0 = Date.now();
  const byKind: Record<string, number> = {};
  const refusedByCode: Record<string, number> = {};
  const problems: string[] = [];
  let sent = 0, validSkipped = 0, answeredOk = 0;
  const inFlight = new Set<Promise<void>>();
  const weights = sub.readOnly ? [...KINDS, { kind: 'valid' as const, weight: 10 }] : KINDS;
  const arb = fc.oneof(...weights.map((w) => ({
    weight: w.weight,
    arbitrary: (w.kind === 'valid' ? sub.valid.map((v) => encode(v)) : hostile(sub, w.kind)).map((bytes) => ({ kind: w.kind as Kind, bytes })),
  })));
  const note = (p: string) => { if (problems.length < 20) problems.push(p); };
  let batch = 0;
  while (sent < perSubject) {
    const msgs = fc.sample(arb, { numRuns: Math.min(1_000, perSubject - sent), seed: seedValue + batch++ });
    for (const m of msgs) {
      if (sent >= perSubject) break;
      const valid = acceptedBy(sub, m.bytes);
      if (valid && !sub.readOnly) {
        validSkipped++;
        continue;
      }
      sent++;
      byKind[valid ? 'valid' : m.kind] = (byKind[valid ? 'valid' : m.kind] ?? 0) + 1;
      const p = c.nc.request(sub.subject, m.bytes, { timeout: 10_000 }).then((reply) => {
        let raw: unknown;
        try {
          raw = decodeRaw(reply.data);
        } catch {
          note(`${m.kind}: an undecodable reply`);
          return;
        }
        const code = typedError(raw);
        if (valid) {
          if ((raw as { ok?: unknown }).ok === true) answeredOk++;
          else if (code !== undefined) refusedByCode[code] = (refusedByCode[code] ?? 0) + 1;
          else note(`valid: a reply that is neither ok nor a typed error: ${JSON.stringify(raw).slice(0, 200)}`);
          return;
        }
        if (code === undefined) note(`${m.kind}: not a typed error reply: ${JSON.stringify(raw).slice(0, 200)} for ${Buffer.from(m.bytes.subarray(0, 60)).toString('hex')}`);
        else refusedByCode[code] = (refusedByCode[code] ?? 0) + 1;
      }, (e: Error) => note(`${m.kind}: no answer (${e.message})`)).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
  }
  await Promise.all(inFlight);
  return { subject: sub.name, sent, byKind, validSkipped, refusedByCode, answeredOk, problems, seconds: (Date.now() - t0) / 1000 };
}

export interface FuzzOptions {
  readonly perSubject: number;
  readonly seed?: number;
  /** Requests in flight per subject. */
  readonly window?: number;
  readonly onSubject?: (r: SubjectReport) => void;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const seedValue = o.seed ?? 42;
  const c = await startFuzzCell();
  try {
    await seed(c);
    const before = await observable(c);
    const subjects: SubjectReport[] = [];
    for (const sub of fuzzSubjects(c.s, CELL_STATE_MAX_BYTES)) {
      const r = await fuzzSubject(c, sub, o.perSubject, seedValue, o.window ?? 64);
      subjects.push(r);
      o.onSubject?.(r);
    }
    const procs: [string, ServiceProcess][] = [['cell-state', c.cs], ['scheduler', c.scheduler]];
    const crashed = procs.filter(([, p]) => p.child.exitCode !== null || p.child.signalCode !== null).map(([n]) => n);
    const after = crashed.length === 0 ? await observable(c) : before;
    const stateChanged = after === before ? [] : diffKeys(before, after);
    return { perSubject: o.perSubject, seed: seedValue, subjects, crashed, stateChanged, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await c.nc.close().catch(() => undefined);
    await c.scheduler.kill('SIGKILL').catch(() => undefined);
    await c.cs.kill('SIGKILL').catch(() => undefined);
    await c.ns.stop().catch(() => undefined);
  }
}

function diffKeys(a: string, b: string): string[] {
  const x = JSON.parse(a) as Record<string, unknown>;
  const y = JSON.parse(b) as Record<string, unknown>;
  return Object.keys(x).filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k])).map((k) => `${k} changed`);
}
