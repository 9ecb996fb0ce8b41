/**
 * Replay of a commit log whose entries are near a megabyte (1,000-node batches): the read must
 * reach the last entry (it stalled when pulls were bounded by a message count).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer, type NatsServerHandle } from '@tessera/testkit';
import { CommitLog } from '../../services/cell-state/src/shell/commit-log.ts';

let ns: NatsServerHandle;
let nc: NatsConnection;
beforeAll(async () => {
  ns = await startNatsServer();
  nc = await connect({ servers: ns.url });
});
afterAll(async () => {
  await nc?.close();
  await ns?.stop();
});

it('replays a log of 60 entries of ~900 KB fully and in order', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'REPLAY_BIG', subjects: ['replay.big'] });
  const log = new CommitLog(nc, jsm, 'REPLAY_BIG', 'replay.big');
  const entry = new Uint8Array(900 * 1024);
  for (let i = 0; i < 60; i++) {
    entry[0] = i;
    await log.append(entry, { msgID: `m${i}`, expectLastSeq: i, timeoutMs: 5_000 });
  }
  const seen: number[] = [];
  const n = await log.read(1, 60, (seq, data) => {
    expect(data[0]).toBe(seq - 1);
    seen.push(seq);
  });
  expect(n).toBe(60);
  expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
}, 20_000);
