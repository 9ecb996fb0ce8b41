/**
 * `tessera mode MODE`: publishes `modeControl` on the control subject (schedulers running now
 * switch at once) and stores it under the key `mode` of the config bucket (replicas started later
 * read it; running ones also watch it).
 */
import { openConfigBucket } from '@tessera/runtime';
import type { NatsConnection } from '@nats-io/transport-node';
import { encode, modeControl, PLACEMENT_MODE_NAMES, type ModeControl } from '@tessera/protocol';
import { CliError } from './errors.ts';
import type { CellTarget } from './target.ts';

export async function setMode(nc: NatsConnection, target: CellTarget, mode: string): Promise<{ acknowledged: boolean }> {
  const parsed = modeControl.safeParse({ mode });
  if (!parsed.success) throw new CliError(`unknown mode "${mode}": use one of ${PLACEMENT_MODE_NAMES.join(', ')}`, 2);
  const msg: ModeControl = parsed.data;
  try {
    const kv = await openConfigBucket(nc, target.subjects);
    await kv.put('mode', encode(msg));
  } catch (e) {
    throw new CliError(`cannot store the mode in ${target.subjects.configBucket}: ${(e as Error).message}`, 1, { cause: e });
  }
  // A request so we learn whether any scheduler heard it (each replica also gets the publish).
  try {
    await nc.request(target.subjects.controlMode, encode(msg), { timeout: 2000 });
    return { acknowledged: true };
  } catch {
    return { acknowledged: false };
  }
}
