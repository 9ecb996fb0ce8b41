/**
 * The forgeries of issue 12, each tried the way a hostile client would — with another identity's
 * subject (denied by the server) and with its own subject but another identity in the body
 * (refused by cell-state with a typed error, counted in tessera_refused_total{reason}) — and
 * each leaving the cell unchanged.
 */
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, registerReply, RemoteError, taskEndedReply } from '@tessera/protocol';
import { request } from '@tessera/runtime';
import { CellClient, claim, eventually, metricsText, metricValue, txn } from '../cell-state/helpers.ts';
import { CELL, startAuthEnv, type AuthEnv, type Client } from './auth-env.ts';

let env: AuthEnv;
let agentA: CellClient;
let agentB: Client;
let agentBCell: CellClient;
let admin: CellClient;

beforeAll(async () => {
  env = await startAuthEnv({ agents: ['agent-a', 'agent-b'], tenants: ['team-a', 'team-b'] });
  agentA = new CellClient((await env.as({ role: 'agent', agent: 'agent-a' })).nc, CELL);
  agentB = await env.as({ role: 'agent', agent: 'agent-b' });
  agentBCell = new CellClient(agentB.nc, CELL);
  admin = new CellClient((await env.as({ role: 'admin' })).nc, CELL);
  const scheduler = new CellClient((await env.as({ role: 'scheduler' })).nc, CELL);
  const submitter = new CellClient((await env.as({ role: 'submitter', tenant: 'team-a' })).nc, CELL);
  // A running task of agent-a's node, placed the normal way: registered, submitted, committed.
  expect(await agentA.register('agent-a', [{ id: 'na-1', cpu: 4000 }])).toMatchObject({ ok: true, registered: 1 });
  await submitter.submitJob({ id: 'real', tenant: 'team-a', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1000, mem_mib: 16 } }] });
  await eventually(async () => (await admin.jobs(['real'])).items.length === 1, 10_000, 'job real listed');
  const v = await scheduler.nodeVersion('na-1');
  const r = await scheduler.commit([txn([claim('real/t/0', 'na-1', { cpu: 1000 }, v, 'real')])]);
  expect(r.results[0].committed).toEqual(['real/t/0']);
});
afterAll(async () => {
  await env?.stop();
});

const forbidden = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e: unknown) => e instanceof RemoteError && e.code === 'forbidden');

async function snapshot() {
  return { jobs: await admin.jobs(), nodes: await admin.nodes() };
}

describe('forgeries fail', () => {
  it('task.ended for another agent\'s task: denied on its subject, refused in the body; the task still runs', async () => {
    const before = await snapshot();
    expect(before.jobs.items[0].tasks[0]).toMatchObject({ id: 'real/t/0', node: 'na-1' });
    expect(await agentB.publishDenied(env.s.taskEnded('agent-a'))).toBe(true);
    // In agent-a's name on agent-b's own subject.
    await forbidden(request(agentB.nc, env.s.taskEnded('agent-b'), { agent: 'agent-a', tasks: [{ taskId: 'real/t/0', nodeId: 'na-1', outcome: 'succeeded' }] }, taskEndedReply));
    // In its own name, for agent-a's node.
    await forbidden(agentBCell.taskEnded('agent-b', [{ taskId: 'real/t/0', nodeId: 'na-1', outcome: 'succeeded' }]));
    expect(await snapshot()).toEqual(before);
    const m = await metricsText(env.cs);
    expect(metricValue(m, 'tessera_refused_total', { reason: 'agent_mismatch' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(m, 'tessera_refused_total', { reason: 'foreign_node' })).toBeGreaterThanOrEqual(1);
  });

  it('a phantom node for an agent that does not exist: no connection, denied subject, refused body; nothing listed', async () => {
    const before = await snapshot();
    await expect(connect({ servers: env.ns.url })).rejects.toThrow(/authorization/i);
    expect(await agentB.publishDenied(env.s.nodeRegister('ghost'))).toBe(true);
    const phantom = { id: 'phantom', labels: {}, capacity: { cpu_millis: 1e9, mem_mib: 1e9 } };
    await forbidden(request(agentB.nc, env.s.nodeRegister('agent-b'), { agent: 'ghost', nodes: [phantom] }, registerReply));
    expect(await snapshot()).toEqual(before);
    expect((await admin.nodes(['phantom'])).items).toEqual([]);
  });

  it('a mode switch by anyone but admin is denied (control subject and config bucket); admin\'s works', async () => {
    const kvOf = async (c: Client) => new Kvm(jetstream(c.nc, { timeout: 1_000 })).open(env.s.configBucket);
    const adminKv = await new Kvm(admin.nc).open(env.s.configBucket);
    await adminKv.put('mode', 'latency-first');
    for (const id of [{ role: 'scheduler' }, { role: 'monitor' }, { role: 'agent', agent: 'agent-a' }, { role: 'submitter', tenant: 'team-a' }] as const) {
      const c = await env.as(id);
      expect(await c.publishDenied(env.s.controlMode), `${id.role} publishes ${env.s.controlMode}`).toBe(true);
      expect(await c.publishDenied(`$KV.${env.s.configBucket}.mode`), `${id.role} writes the mode key`).toBe(true);
      if (id.role === 'scheduler' || id.role === 'monitor') {
        const kv = await kvOf(c);
        await expect(kv.put('mode', 'state-sync')).rejects.toThrow();
      }
    }
    expect(new TextDecoder().decode((await adminKv.get('mode'))!.value)).toBe('latency-first');
  });

  it('a job under another tenant\'s name: denied on its subject; on the own subject dropped by cell-state unrecorded', async () => {
    const submitter = await env.as({ role: 'submitter', tenant: 'team-a' });
    expect(await submitter.publishDenied(env.s.jobsSubmit('team-b'))).toBe(true);
    // The stream takes it (the subject is team-a's), cell-state refuses it.
    await jetstream(submitter.nc).publish(env.s.jobsSubmit('team-a'), encode({ job: { id: 'forged', tenant: 'team-b', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1 } }] }, submittedAt: Date.now() }));
    await jetstream(submitter.nc).publish(env.s.jobsSubmit('team-a'), encode({ job: { id: 'honest', tenant: 'team-a', tasks: [{ name: 't', count: 1, resources: { cpu_millis: 1 } }] }, submittedAt: Date.now() }));
    await eventually(async () => (await admin.jobs(['honest'])).items.length === 1, 10_000, 'the honest job listed');
    expect((await admin.jobs(['forged'])).items).toEqual([]);
    expect(metricValue(await metricsText(env.cs), 'tessera_refused_total', { reason: 'tenant_mismatch' })).toBe(1);
  });
});
