/**
 * Replay of a commit log whose entries are near a megabyte (1,000-node batches), applied slowly
 * (40 ms each, like applying a big batch): the read must reach the last entry. With pulls bounded
 * by a message count (2,000) it stopped at 34 of 120 (LogReadError, idle 10 s), as the restarted
 * cell-state of the loaded chaos run did.
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

it('replays a log of 120 entries of ~900 KB, applied slowly, fully and in order', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'REPLAY_BIG', subjects: ['replay.big'] });
  const log = new CommitLog(nc, jsm, 'REPLAY_BIG', 'replay.big');
  const entry = new Uint8Array(900 * 1024);
  for (let i = 0; i < 120; i++) {
    entry[0] = i;
    await log.append(entry, { msgID: `m${i}`, expectLastSeq: i, timeoutMs: 5_000 });
  }
  const seen: number[] = [];
  const n = await log.read(1, 120, async (seq, data) => {
    await new Promise((r) => setTimeout(r, 40));
    expect(data[0]).toBe(seq - 1);
    seen.push(seq);
  });
  expect(n).toBe(120);
  expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
}, 30_000);
