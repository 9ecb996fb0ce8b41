/**
 * Identity checks on top of the server's permissions (DESIGN §13): the NATS server lets an agent
 * publish only on subjects ending with its own id, and a submitter only on its tenant's submit
 * subject; a message that names another agent or tenant in its body is refused here, so the
 * body can never claim more than the subject the server checked.
 */
import { lastToken, tenantToken } from './subjects.ts';

/** Label values of `tessera_refused_total{reason}`. */
export const RefusedReason = {
  /** The message's `agent` differs from the agent id of its subject. */
  agent_mismatch: 'agent_mismatch',
  /** A job's `tenant` differs from the tenant of the submit subject it came on. */
  tenant_mismatch: 'tenant_mismatch',
  /** An agent spoke for a node another agent owns. */
  foreign_node: 'foreign_node',
} as const;
export type RefusedReason = (typeof RefusedReason)[keyof typeof RefusedReason];

export interface IdentityRefusal {
  readonly reason: RefusedReason;
  readonly message: string;
}

export function agentMismatch(subject: string, agent: string): IdentityRefusal | undefined {
  const subjectAgent = lastToken(subject);
  if (subjectAgent === agent) return undefined;
  return { reason: RefusedReason.agent_mismatch, message: `message for agent "${agent}" sent on agent "${subjectAgent}"'s subject` };
}

/** `tenant` is the job's raw field (absent means `default`, as the job spec says). */
export function tenantMismatch(subject: string, tenant: unknown): IdentityRefusal | undefined {
  const t = tenant === undefined ? 'default' : tenant;
  const subjectTenant = lastToken(subject);
  if (typeof t === 'string' && t.length > 0 && tenantToken(t) === subjectTenant) return undefined;
  return { reason: RefusedReason.tenant_mismatch, message: `job of tenant ${JSON.stringify(t)} submitted on tenant "${subjectTenant}"'s subject` };
}
