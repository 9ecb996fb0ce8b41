/**
 * The transport baseline: what the bus alone carries between two processes, so end-to-end
 * placements/s can be stated as a fraction of it. The requester (this process) sends batches of
 * ~100-byte records (shaped like commit claims) with a few requests in flight, as a scheduler's
 * commit pipeline does; the responder (a child process) decodes and answers with a small ack.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { encode } from '@tessera/protocol';
import { percentiles, type Percentiles } from './stats.ts';

const RESPONDER = fileURLToPath(new URL('./transport-responder.ts', import.meta.url));

export type TransportMode = 'raw' | 'validated';

export interface TransportOptions {
  readonly natsUrl: string;
  readonly mode: TransportMode;
  readonly recordsPerRequest: number;
  /** Requests in flight at once. */
  readonly window: number;
  readonly seconds: number;
}

export interface TransportResult {
  readonly mode: TransportMode;
  readonly recordsPerRequest: number;
  readonly window: number;
  readonly recordBytes: number;
  readonly requestBytes: number;
  readonly requests: number;
  readonly records: number;
  readonly seconds: number;
  readonly recordsPerS: number;
  readonly requestsPerS: number;
  readonly mbPerS: number;
  readonly latencyMs: Percentiles;
}

/** One claim-shaped record; `i` varies the ids so msgpack cannot share strings. */
export function sampleRecord(i: number): Record<string, unknown> {
  const job = 100_000 + Math.floor(i / 1000);
  return {
    taskId: `job-${job}/map/${String(i % 1000).padStart(5, '0')}`,
    jobId: `job-${job}`,
    nodeId: `node-${String(i % 10_000).padStart(5, '0')}`,
    demand: [500, 2621.44, 0, 0],
    seenVersion: 1_000_000 + i,
  };
}

function buildRequest(mode: TransportMode, n: number, seq: number): Uint8Array {
  const records = Array.from({ length: n }, (_, k) => sampleRecord(seq * n + k));
  if (mode === 'raw') return encode({ records });
  return encode({
    resources: ['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli'],
    txns: [{ id: `bench-${seq}`, schedulerId: 'bench', kind: 'incremental', claims: records }],
  });
}

export async function measureTransport(o: TransportOptions): Promise<TransportResult> {
  const subject = `bench.transport.${process.pid}.${o.mode}`;
  const child = fork(RESPONDER, [o.natsUrl, subject, o.mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (c) => reject(new Error(`transport responder exited (${c})`)));
  });
  const nc = await connect({ servers: o.natsUrl, name: 'tessera bench transport requester' });
  // Pre-build a few distinct payloads: the requester's own encoding is not what we measure.
  const payloads = Array.from({ length: 16 }, (_, i) => buildRequest(o.mode, o.recordsPerRequest, i));
  const recordBytes = encode(sampleRecord(0)).length;
  const latencies: number[] = [];
  let requests = 0;
  const warmEnd = performance.now() + 500;
  const start = { t: 0 };
  const end = performance.now() + 500 + o.seconds * 1000;
  const worker = async () => {
    let i = 0;
    while (performance.now() < end) {
      const t0 = performance.now();
      await nc.request(subject, payloads[i++ % payloads.length], { timeout: 10_000 });
      const t1 = performance.now();
      if (t0 >= warmEnd) {
        if (start.t === 0) start.t = t0;
        requests++;
        latencies.push(t1 - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: o.window }, worker));
  const seconds = (performance.now() - start.t) / 1000;
  await nc.close();
  child.send({ t: 'stop' });
  await new Promise<void>((r) => child.once('exit', () => r()));
  const records = requests * o.recordsPerRequest;
  return {
    mode: o.mode, recordsPerRequest: o.recordsPerRequest, window: o.window, recordBytes, requestBytes: payloads[0].length,
    requests, records, seconds, recordsPerS: records / seconds, requestsPerS: requests / seconds,
    mbPerS: (requests * payloads[0].length) / seconds / 1e6, latencyMs: percentiles(latencies),
  };
}
