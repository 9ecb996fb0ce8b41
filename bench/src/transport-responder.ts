/**
 * The far end of the transport baseline: a separate process that answers batched requests on one
 * subject. `raw` decodes the msgpack body and replies with a small ack; `validated` also checks it
 * against the protocol's commit-request schema (zod), as cell-state's serve() does for every
 * commit. argv: NATS_URL SUBJECT MODE.
 */
import { connect } from '@nats-io/transport-node';
import { commitRequest, decodeAs, decodeRaw, encode } from '@tessera/protocol';

const [url, subject, mode] = process.argv.slice(2);
const nc = await connect({ servers: url, name: 'tessera bench transport responder' });
let records = 0;
nc.subscribe(subject, {
  callback: (_err, msg) => {
    let n = 0;
    if (mode === 'validated') {
      const d = decodeAs(msg.data, commitRequest);
      if (d.ok) for (const t of d.value.txns) n += t.claims.length;
    } else {
      const v = decodeRaw(msg.data) as { records?: unknown[] };
      n = v.records?.length ?? 0;
    }
    records += n;
    msg.respond(encode({ ok: true, n }));
  },
});
await nc.flush();
process.send?.({ t: 'ready' });
process.on('message', async (m: { t: string }) => {
  if (m.t === 'stop') {
    process.send?.({ t: 'stopped', records });
    await nc.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
