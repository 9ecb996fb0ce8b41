/**
 * The leader lease on JetStream KV: one key (`cell-state`) in the bucket `leaderBucket`, created
 * when absent and renewed with revision-checked updates (compare-and-set on the key's last
 * revision), so two cell-states can never both acquire or renew it from the same revision.
 */
import { JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeLease, encodeLease, type LeaseKey, type LeaseValue } from '../core/lease.ts';

export const LEASE_KEY = 'cell-state';
/** JetStream's "wrong last sequence": the key moved on since the revision we hold. */
const WRONG_LAST_SEQUENCE = 10071;

/** The key moved on: another cell-state acquired or renewed the lease. */
export class LeaseTakenError extends Error {
  override readonly name = 'LeaseTakenError';
}

/** What the leadership needs of the lease store (an in-memory one in tests). */
export interface LeasePort {
  read(): Promise<LeaseKey>;
  /** Writes `value` if the key's last revision is still `revision` (0 or a deletion: absent). */
  write(value: LeaseValue, revision: number, deleted: boolean, timeoutMs: number): Promise<number>;
  /** Deletes the key if its last revision is still `revision` (graceful hand-over). */
  release(revision: number): Promise<void>;
}

export class KvLease implements LeasePort {
  private constructor(private readonly kv: KV) {}

  /**
   * Creates the bucket if needed (JetStream's default timeouts: start-up may be slow), then binds
   * the handle every lease operation goes through with a JetStream client whose requests time out
   * after `requestTimeoutMs` (a fraction of the lease). A request lost with its server (a NATS
   * outage) would otherwise be waited out for JetStream's default 5 s, longer than the lease.
   */
  static async open(nc: NatsConnection, bucket: string, replicas = 1, requestTimeoutMs?: number): Promise<KvLease> {
    const created = await new Kvm(nc).create(bucket, { history: 1, replicas, description: 'tessera cell-state leader lease' });
    if (requestTimeoutMs === undefined) return new KvLease(created);
    const kv = await new Kvm(jetstream(nc, { timeout: requestTimeoutMs })).open(bucket, { timeout: requestTimeoutMs });
    return new KvLease(kv);
  }

  async read(): Promise<LeaseKey> {
    const e = await this.kv.get(LEASE_KEY);
    if (e === null) return null;
    const deleted = e.operation !== 'PUT';
    return { revision: e.revision, deleted, value: deleted ? undefined : decodeLease(e.value) };
  }

  async write(value: LeaseValue, revision: number, deleted: boolean, timeoutMs: number): Promise<number> {
    try {
      // After a deletion the key's last revision is the delete marker: update on it.
      if (revision === 0) return await this.kv.create(LEASE_KEY, encodeLease(value));
      return await this.kv.update(LEASE_KEY, encodeLease(value), revision, timeoutMs);
    } catch (e) {
      if (e instanceof JetStreamApiError && e.code === WRONG_LAST_SEQUENCE) throw new LeaseTakenError(`the lease moved on from revision ${revision}${deleted ? ' (deleted)' : ''}`, { cause: e });
      throw e;
    }
  }

  async release(revision: number): Promise<void> {
    await this.kv.delete(LEASE_KEY, { previousSeq: revision });
  }
}
