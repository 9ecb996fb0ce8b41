/**
 * The negative matrix (DESIGN §13) over one real nats-server with the generated accounts: for
 * every role, the subjects it must not publish or subscribe are denied by the server (the
 * permission violation is observed), the ones it needs are not; a connection without (or with
 * wrong) credentials is refused; and the forgeries of issue 12 fail.
 */
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@tessera/protocol';
import { startAuthEnv, type AuthEnv } from './auth-env.ts';

let env: AuthEnv;

beforeAll(async () => {
  env = await startAuthEnv({ agents: ['agent-a', 'agent-b'], tenants: ['team-a', 'team-b'] });
});
afterAll(async () => {
  await env?.stop();
});

type Row = { readonly id: Identity; readonly pub: { deny: string[]; allow: string[] }; readonly sub: { deny: string[]; allow: string[] } };

function matrix(): Row[] {
  const s = env.s;
  const js = '$JS.API';
  const cveAndLegacy = [
    `${js}.ACCOUNT.PURGE.APP`, `${js}.SERVER.REMOVE`, `${js}.ACCOUNT.STREAM.MOVE.APP.${s.jobsStream}`, `${js}.ACCOUNT.STREAM.CANCEL_MOVE.APP.${s.jobsStream}`,
    `${js}.CONSUMER.DURABLE.CREATE.${s.jobsStream}.evil`, `${js}.CONSUMER.CREATE.${s.jobsStream}`,
  ];
  const streamAdmin = [`${js}.STREAM.DELETE.${s.jobsStream}`, `${js}.STREAM.PURGE.${s.commitLogStream}`, `${js}.STREAM.DELETE.KV_${s.leaderBucket}`, `${js}.CONSUMER.CREATE.${s.jobsStream}.evil.${s.jobsSubmit('team-a')}`];
  const everyonesInbox = ['_INBOX.>', '>', '_INBOX_admin.>'];
  return [
    {
      id: { role: 'agent', agent: 'agent-a' },
      pub: {
        deny: [s.nodeRegister('agent-b'), s.nodeHeartbeat('agent-b'), s.taskEnded('agent-b'), s.nodeRegister('ghost'), s.commit, s.sync, s.jobOutcome,
          s.controlMode, s.jobsSubmit('team-a'), s.assign('agent-b'), s.queryJobs, s.commitLogSubject, `$KV.${s.configBucket}.mode`, ...streamAdmin, ...cveAndLegacy],
        allow: [s.nodeRegister('agent-a'), s.nodeHeartbeat('agent-a'), s.taskEnded('agent-a')],
      },
      sub: { deny: [...everyonesInbox, s.assign('agent-b'), s.nodeHeartbeatAll, s.commitLogSubject, '_INBOX_agent-agent-b.>'], allow: [s.assign('agent-a'), '_INBOX_agent-agent-a.>'] },
    },
    {
      id: { role: 'submitter', tenant: 'team-a' },
      pub: {
        deny: [s.jobsSubmit('team-b'), s.jobsSubmit('default'), s.commit, s.nodeRegister('agent-a'), s.controlMode, s.queryJobs, s.commitLogSubject, `$KV.${s.configBucket}.mode`, ...streamAdmin, ...cveAndLegacy],
        allow: [s.jobsSubmit('team-a')],
      },
      sub: { deny: [...everyonesInbox, s.assign('agent-a'), s.jobsSubmitAll, s.commitLogSubject], allow: ['_INBOX_submitter-team-a.>'] },
    },
    {
      id: { role: 'scheduler' },
      pub: {
        deny: [s.nodeRegister('agent-a'), s.taskEnded('agent-a'), s.jobsSubmit('team-a'), s.controlMode, s.nodeAdmin, s.commitLogSubject, s.assign('agent-a'),
          `$KV.${s.configBucket}.mode`, `${js}.CONSUMER.MSG.NEXT.${s.jobsStream}.${s.jobsCellStateConsumer}`, `${js}.STREAM.MSG.GET.${s.commitLogStream}`, ...streamAdmin, ...cveAndLegacy],
        allow: [s.sync, s.commit, s.jobOutcome, s.queryNodes, `${js}.CONSUMER.MSG.NEXT.${s.jobsStream}.${s.jobsConsumer}`, `${js}.STREAM.INFO.KV_${s.configBucket}`, `${js}.STREAM.MSG.GET.${s.jobsStream}`],
      },
      sub: { deny: [...everyonesInbox, s.nodeRegisterAll, s.assign('agent-a'), s.commitLogSubject], allow: [s.controlMode, '_INBOX_scheduler.>'] },
    },
    {
      id: { role: 'monitor' },
      pub: {
        deny: [s.commit, s.sync, s.jobOutcome, s.nodeAdmin, s.nodeRegister('agent-a'), s.jobsSubmit('team-a'), s.controlMode, `$KV.${s.configBucket}.mode`,
          `${js}.CONSUMER.MSG.NEXT.${s.jobsStream}.${s.jobsConsumer}`, ...streamAdmin, ...cveAndLegacy],
        allow: [s.queryJobs, s.queryNodes, s.queryPartitions, s.queryExplain, `${js}.STREAM.INFO.${s.jobsStream}`],
      },
      sub: { deny: [...everyonesInbox, s.commit, s.commitLogSubject, s.assign('agent-a'), s.nodeHeartbeatAll], allow: ['_INBOX_monitor.>'] },
    },
    {
      id: { role: 'cell-state' },
      pub: { deny: [s.controlMode, `${js}.STREAM.RESTORE.${s.commitLogStream}`, ...cveAndLegacy], allow: [s.assign('agent-a'), s.jobsSubmit('team-a'), s.commitLogSubject, `${js}.STREAM.INFO.${s.commitLogStream}`] },
      sub: { deny: everyonesInbox, allow: [s.nodeRegisterAll, s.commit, '_INBOX_cell-state.>'] },
    },
    {
      id: { role: 'admin' },
      pub: { deny: cveAndLegacy, allow: [s.controlMode, s.nodeAdmin, `$KV.${s.configBucket}.mode`, s.queryJobs] },
      sub: { deny: [], allow: ['_INBOX.>', '>', s.commitLogSubject] },
    },
  ];
}

describe('the server enforces each role\'s permissions', () => {
  it('denies every subject outside a role\'s permissions and allows the ones it needs', async () => {
    const problems: string[] = [];
    for (const row of matrix()) {
      const c = await env.as(row.id);
      const who = row.id.agent ?? row.id.tenant ?? row.id.role;
      for (const subj of row.pub.deny) if (!(await c.publishDenied(subj))) problems.push(`${who} may publish ${subj}`);
      for (const subj of row.pub.allow) if (await c.publishDenied(subj)) problems.push(`${who} may not publish ${subj}`);
      for (const subj of row.sub.deny) if (!(await c.subscribeDenied(subj))) problems.push(`${who} may subscribe ${subj}`);
      for (const subj of row.sub.allow) if (await c.subscribeDenied(subj)) problems.push(`${who} may not subscribe ${subj}`);
      await c.close();
    }
    expect(problems).toEqual([]);
  });

  it('refuses a connection without credentials, with a wrong password, or as the system user from the outside', async () => {
    await expect(connect({ servers: env.ns.url })).rejects.toThrow(/authorization/i);
    const admin = env.auth.credentials({ role: 'admin' });
    await expect(connect({ servers: env.ns.url, user: admin.user, pass: `${admin.pass}x` })).rejects.toThrow(/authorization/i);
    await expect(connect({ servers: env.ns.url, user: 'nobody', pass: 'nothing' })).rejects.toThrow(/authorization/i);
  });
});
