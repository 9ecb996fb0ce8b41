/**
 * Who may publish and subscribe to what on the bus (DESIGN §13): one identity per role (one per
 * agent, one per tenant's submitter), each allowed only the subjects it needs, as nats-server
 * per-user permissions. Pure data; `@tessera/launcher` renders it into the server's config.
 *
 * Every role has its own inbox prefix (`_INBOX_<user>`): only admin may subscribe to `_INBOX.>`,
 * so no one else can read replies meant for others. JetStream API subjects are allowed per
 * stream and consumer; durable consumers are created by cell-state (or admin); the legacy
 * consumer-create forms and the account-wide JetStream admin calls of CVE-2025-30215 (account
 * purge, server remove, stream moves) are denied to every role.
 */
import { agentToken, tenantToken, type Subjects } from './subjects.ts';

export const ROLES = ['cell-state', 'scheduler', 'agent', 'submitter', 'admin', 'monitor'] as const;
export type Role = (typeof ROLES)[number];

/** A role plus the agent id (role `agent`) or tenant (role `submitter`) it is bound to. */
export interface Identity {
  readonly role: Role;
  readonly agent?: string;
  readonly tenant?: string;
}

export interface SubjectPermissions {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export interface Permissions {
  readonly publish: SubjectPermissions;
  readonly subscribe: SubjectPermissions;
  /** May answer requests it received (publish to their reply subjects). */
  readonly allowResponses: boolean;
}

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

/** The NATS user name of an identity (a safe token: the agent id or tenant token is part of it). */
export function userName(id: Identity): string {
  switch (id.role) {
    case 'agent':
      if (id.agent === undefined) throw new IdentityError('role agent needs an agent id');
      return `agent-${agentToken(id.agent)}`;
    case 'submitter':
      if (id.tenant === undefined) throw new IdentityError('role submitter needs a tenant');
      return `submitter-${tenantToken(id.tenant)}`;
    default:
      return id.role;
  }
}

/** The inbox prefix an identity's connection must use (nats.js `inboxPrefix`). */
export function inboxPrefixOf(id: Identity): string {
  return `_INBOX_${userName(id)}`;
}

const JS = '$JS.API';

/** Denied to every role, admin included. */
export const DENIED_TO_ALL: readonly string[] = [
  // CVE-2025-30215: account-wide JetStream admin calls reachable by any user of any account on < 2.10.27.
  `${JS}.ACCOUNT.PURGE.>`,
  `${JS}.SERVER.REMOVE`,
  `${JS}.ACCOUNT.STREAM.MOVE.>`,
  `${JS}.ACCOUNT.STREAM.CANCEL_MOVE.>`,
  // Legacy consumer-create forms (no consumer name / filter in the subject, so not restrictable).
  `${JS}.CONSUMER.DURABLE.CREATE.>`,
  `${JS}.CONSUMER.CREATE.*`,
];

/** Streams behind the cell's KV buckets and object store. */
export function bucketStreams(s: Subjects): { kv: string[]; obj: string[] } {
  return { kv: [s.configBucket, s.leaderBucket], obj: [s.snapshotBucket] };
}

/** Everything a full JetStream user of `stream` needs (cell-state: create, read, consume, ack). */
function streamOwner(stream: string): string[] {
  return [
    `${JS}.STREAM.*.${stream}`, `${JS}.STREAM.MSG.*.${stream}`, `${JS}.DIRECT.GET.${stream}`, `${JS}.DIRECT.GET.${stream}.>`,
    `${JS}.CONSUMER.*.${stream}`, `${JS}.CONSUMER.*.${stream}.>`, `${JS}.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.ACK.${stream}.>`, `$JS.FC.${stream}.>`,
  ];
}

/** Reading one KV key of a bucket and watching it (schedulers: the live mode). */
function kvReader(bucket: string, key: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `${JS}.STREAM.INFO.${stream}`, `${JS}.STREAM.MSG.GET.${stream}`, `${JS}.DIRECT.GET.${stream}`, `${JS}.DIRECT.GET.${stream}.$KV.${bucket}.${key}`,
    `${JS}.CONSUMER.CREATE.${stream}.*.$KV.${bucket}.${key}`, `${JS}.CONSUMER.INFO.${stream}.*`, `${JS}.CONSUMER.DELETE.${stream}.*`,
    `$JS.FC.${stream}.>`,
  ];
}

export function permissionsFor(s: Subjects, id: Identity): Permissions {
  const p = `tessera.${s.cell}`;
  const inbox = `${inboxPrefixOf(id)}.>`;
  const deny = DENIED_TO_ALL;
  const { kv, obj } = bucketStreams(s);
  switch (id.role) {
    case 'cell-state':
      return {
        publish: {
          allow: [
            `${p}.>`, `${JS}.INFO`, `${JS}.STREAM.NAMES`, `${JS}.STREAM.LIST`,
            ...[s.jobsStream, s.commitLogStream, ...kv.map((b) => `KV_${b}`), ...obj.map((b) => `OBJ_${b}`)].flatMap(streamOwner),
            ...kv.map((b) => `$KV.${b}.>`), ...obj.map((b) => `$O.${b}.>`),
          ],
          // Restore is never used by tessera (CVE-2026-33222: a restore permission reached other streams).
          deny: [...deny, `${p}.control.>`, `${JS}.STREAM.RESTORE.>`, `${JS}.STREAM.SNAPSHOT.>`],
        },
        subscribe: { allow: [`${p}.>`, inbox], deny: [] },
        allowResponses: true,
      };
    case 'scheduler':
      return {
        publish: {
          allow: [
            s.sync, s.commit, s.jobOutcome, `${p}.query.>`, `${JS}.INFO`,
            `${JS}.STREAM.INFO.${s.jobsStream}`, `${JS}.STREAM.INFO.${s.commitLogStream}`,
            // The oldest unacknowledged job's age (tessera_scheduler_oldest_pending_seconds).
            `${JS}.STREAM.MSG.GET.${s.jobsStream}`,
            `${JS}.CONSUMER.INFO.${s.jobsStream}.*`, `${JS}.CONSUMER.MSG.NEXT.${s.jobsStream}.${s.jobsConsumer}`,
            `$JS.ACK.${s.jobsStream}.${s.jobsConsumer}.>`,
            ...kvReader(s.configBucket, 'mode'),
          ],
          deny,
        },
        subscribe: { allow: [s.controlMode, inbox], deny: [] },
        allowResponses: true,
      };
    case 'agent': {
      const a = id.agent ?? '';
      return {
        publish: { allow: [s.nodeRegister(a), s.nodeHeartbeat(a), s.taskEnded(a)], deny },
        subscribe: { allow: [s.assign(agentToken(a)), inbox], deny: [] },
        allowResponses: false,
      };
    }
    case 'submitter':
      return {
        publish: { allow: [s.jobsSubmit(id.tenant ?? '')], deny },
        subscribe: { allow: [inbox], deny: [] },
        allowResponses: false,
      };
    case 'admin':
      return { publish: { allow: ['>'], deny }, subscribe: { allow: ['>'], deny: [] }, allowResponses: true };
    case 'monitor':
      return {
        publish: {
          allow: [`${p}.query.>`, `${JS}.INFO`, `${JS}.STREAM.NAMES`, `${JS}.STREAM.LIST`, `${JS}.STREAM.INFO.*`, `${JS}.CONSUMER.LIST.*`, `${JS}.CONSUMER.INFO.*.*`],
          deny,
        },
        subscribe: { allow: [inbox], deny: [] },
        allowResponses: false,
      };
  }
}
