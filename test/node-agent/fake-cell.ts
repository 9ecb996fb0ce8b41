/**
 * A stand-in for cell-state on the agent's subjects (register, heartbeat, task-ended), served
 * over real NATS with the protocol schemas, recording every request. Tests steer its replies.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  errorReply, ErrorCode, heartbeatRequest, registerRequest, taskEndedRequest,
  type Assignment, type HeartbeatRequest, type RegisterRequest, type Subjects, type TaskEndedRequest,
} from '@tessera/protocol';
import { createLogger, serve } from '@tessera/runtime';

export class FakeCell {
  readonly registers: RegisterRequest[] = [];
  readonly heartbeats: HeartbeatRequest[] = [];
  /** When each heartbeat arrived (Date.now(), same index as `heartbeats`). */
  readonly heartbeatAt: number[] = [];
  /** Indexes (in `heartbeats`) of the heartbeats left unanswered, as if lost in flight. */
  readonly droppedHeartbeats: number[] = [];
  /** Leave this many next heartbeat requests unanswered (recorded, never replied to). */
  dropHeartbeats = 0;
  readonly taskEnds: TaskEndedRequest[] = [];
  /** Next heartbeat replies (consumed once each, for the node ids they name). */
  unknownNodes: string[] = [];
  stopTasks: string[] = [];
  missing: Assignment[] = [];
  /** Keep sending `missing` on every heartbeat (not consumed). */
  stickyMissing: Assignment[] = [];
  /** Refuse this many taskEnded requests with `unavailable` before accepting. */
  failTaskEnds = 0;

  constructor(nc: NatsConnection, s: Subjects) {
    const log = createLogger('fake-cell', 'silent');
    serve(nc, s.nodeRegisterAll, registerRequest, (r) => {
      this.registers.push(r);
      return { ok: true, registered: r.nodes.length };
    }, { log });
    serve(nc, s.nodeHeartbeatAll, heartbeatRequest, (r) => {
      this.heartbeats.push(r);
      this.heartbeatAt.push(Date.now());
      if (this.dropHeartbeats > 0) {
        this.dropHeartbeats--;
        this.droppedHeartbeats.push(this.heartbeats.length - 1);
        return undefined;
      }
      const ids = new Set(r.nodes.map((n) => n.id));
      const unknown = this.unknownNodes.filter((n) => ids.has(n));
      this.unknownNodes = this.unknownNodes.filter((n) => !ids.has(n));
      const stop = this.stopTasks;
      this.stopTasks = [];
      const missing = [...this.missing.filter((a) => ids.has(a.nodeId)), ...this.stickyMissing.filter((a) => ids.has(a.nodeId))];
      this.missing = this.missing.filter((a) => !ids.has(a.nodeId));
      return { ok: true, unknownNodes: unknown, stopTasks: stop, missing };
    }, { log });
    serve(nc, s.taskEndedAll, taskEndedRequest, (r) => {
      if (this.failTaskEnds > 0) {
        this.failTaskEnds--;
        return errorReply(ErrorCode.unavailable, 'commit log unreachable (test)');
      }
      this.taskEnds.push(r);
      return { ok: true, released: r.tasks.length };
    }, { log });
  }

  endsOf(taskId: string) {
    return this.taskEnds.flatMap((r) => r.tasks).filter((t) => t.taskId === taskId);
  }

  /** Task ids the last heartbeat round reported running (per node). */
  lastReported(nodeId: string): string[] | undefined {
    for (let i = this.heartbeats.length - 1; i >= 0; i--) {
      const n = this.heartbeats[i].nodes.find((x) => x.id === nodeId);
      if (n !== undefined) return n.tasks;
    }
    return undefined;
  }
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
