/**
 * The JetStream streams and consumers every service relies on, defined once. Idempotent: any
 * service (or the CLI) may call `ensureStreams` at start; an existing stream is left as it is.
 */
import { AckPolicy, DeliverPolicy, jetstreamManager, RetentionPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from '@tessera/protocol';
import { Kvm, type KV } from '@nats-io/kv';

export interface StreamOptions {
  /** R1 locally; R3 on a 3-node production cluster. */
  readonly replicas?: number;
}

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  let info;
  try {
    info = await jsm.streams.info(config.name!);
  } catch {
    info = undefined;
  }
  if (info !== undefined) {
    // A stream of an older version misses subjects (e.g. the per-tenant submit subjects): add them.
    const missing = (config.subjects ?? []).filter((x) => !info.config.subjects?.includes(x));
    if (missing.length > 0) await jsm.streams.update(config.name!, { subjects: [...(info.config.subjects ?? []), ...missing] });
    return;
  }
  try {
    await jsm.streams.add(config);
  } catch (e) {
    // Another process created it in between: fine. Anything else is real.
    await jsm.streams.info(config.name!).catch(() => { throw e; });
  }
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Parameters<JetStreamManager['consumers']['add']>[1]): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name!);
  } catch {
    try {
      await jsm.consumers.add(stream, config);
    } catch (e) {
      await jsm.consumers.info(stream, config.durable_name!).catch(() => { throw e; });
    }
  }
}

export async function ensureStreams(nc: NatsConnection, s: Subjects, opts: StreamOptions = {}): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const num_replicas = opts.replicas ?? 1;
  // Jobs: kept by limits (not interest) so a job submitted before any consumer exists is not dropped.
  await ensureStream(jsm, {
    name: s.jobsStream, subjects: [s.jobsSubmitAll], retention: RetentionPolicy.Limits, storage: StorageType.File,
    num_replicas, max_age: nanos(7 * 86_400_000), duplicate_window: nanos(120_000),
  });
  // Schedulers share one durable work consumer: each job goes to one replica, redelivered if it dies unacked.
  await ensureConsumer(jsm, s.jobsStream, {
    durable_name: s.jobsConsumer, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000), max_ack_pending: 20_000,
  });
  // Cell-state reads every submission for the job table.
  await ensureConsumer(jsm, s.jobsStream, {
    durable_name: s.jobsCellStateConsumer, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(30_000), max_ack_pending: 20_000,
  });
  // The commit log: the truth from which the cell state is rebuilt. Never expires.
  await ensureStream(jsm, {
    name: s.commitLogStream, subjects: [s.commitLogSubject], retention: RetentionPolicy.Limits, storage: StorageType.File,
    num_replicas, duplicate_window: nanos(120_000),
  });
  return jsm;
}

/**
 * Binds the cell's config bucket (live settings such as the placement mode), creating it when
 * missing. `Kvm.create` looks the stream up before adding it, so it also binds an existing bucket.
 */
export async function openConfigBucket(nc: NatsConnection, s: Subjects): Promise<KV> {
  const kvm = new Kvm(nc);
  try {
    return await kvm.create(s.configBucket, { history: 1 });
  } catch {
    // Another process created it in between with other options: bind to what exists.
    return await kvm.create(s.configBucket);
  }
}
