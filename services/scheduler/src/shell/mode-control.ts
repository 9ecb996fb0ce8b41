/**
 * Live mode switching. `tessera mode MODE` publishes `modeControl` on the control subject and
 * stores the mode under the key `mode` of the config bucket. Every replica listens on the
 * subject, reads the key at start (so a restarted replica runs the current mode, not its flag)
 * and watches it for changes. A value that is not a mode is refused and logged; it never stops
 * the scheduler.
 */
import { KvWatchInclude, type KV } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { PlacementMode } from '@tessera/policy';
import { encode, errorReply, ErrorCode, type Subjects } from '@tessera/protocol';
import { openConfigBucket, type Logger } from '@tessera/runtime';
import { parseModeValue } from '../core/mode-value.ts';
import type { SchedulerMetrics } from './metrics.ts';

export const MODE_KEY = 'mode';

export interface ModeControlDeps {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly log: Logger;
  readonly metrics: SchedulerMetrics;
  readonly onMode: (mode: PlacementMode, source: 'control' | 'config') => void;
}

export interface ModeControl {
  /** The mode stored in the config bucket at start, if any (already passed to onMode). */
  readonly initial: PlacementMode | undefined;
  stop(): Promise<void>;
}

export async function startModeControl(d: ModeControlDeps): Promise<ModeControl> {
  const sub: Subscription = d.nc.subscribe(d.subjects.controlMode, {
    callback: (err, msg) => {
      if (err) {
        d.log.error({ err }, 'mode control subscription error');
        return;
      }
      const v = parseModeValue(msg.data);
      if (!v.ok) {
        d.metrics.refused.inc({ what: 'mode_control' });
        d.log.warn({ subject: msg.subject, reason: v.reason }, 'refused a mode control message');
        if (msg.reply) msg.respond(encode(errorReply(ErrorCode.invalid, v.reason, 'mode')));
        return;
      }
      d.onMode(v.mode, 'control');
      if (msg.reply) msg.respond(encode({ ok: true }));
    },
  });

  let kv: KV | undefined;
  let initial: PlacementMode | undefined;
  let watching: Promise<void> | undefined;
  let stopWatch: (() => void) | undefined;
  try {
    kv = await openConfigBucket(d.nc, d.subjects);
    // Watch first, then read: a change made in between is delivered by the watch after the read.
    const watcher = await kv.watch({ key: MODE_KEY, include: KvWatchInclude.UpdatesOnly });
    stopWatch = () => watcher.stop();
    const entry = await kv.get(MODE_KEY);
    if (entry !== null && entry.operation === 'PUT') {
      const v = parseModeValue(entry.value);
      if (v.ok) {
        initial = v.mode;
        d.onMode(v.mode, 'config');
      } else {
        d.log.warn({ bucket: d.subjects.configBucket, key: MODE_KEY, reason: v.reason }, 'ignoring the stored mode');
      }
    }
    watching = (async () => {
      for await (const e of watcher) {
        if (e.operation !== 'PUT') continue;
        const v = parseModeValue(e.value);
        if (!v.ok) {
          d.metrics.refused.inc({ what: 'mode_config' });
          d.log.warn({ bucket: d.subjects.configBucket, key: MODE_KEY, reason: v.reason }, 'refused a stored mode');
          continue;
        }
        d.onMode(v.mode, 'config');
      }
    })().catch((e) => d.log.warn({ err: e }, 'mode watch ended'));
  } catch (e) {
    // The subject still works; only a restart would miss a mode set while this replica was down.
    d.log.warn({ err: e, bucket: d.subjects.configBucket }, 'cannot read the config bucket; using the --mode flag');
  }

  return {
    initial,
    async stop() {
      stopWatch?.();
      await watching;
      if (!sub.isClosed()) sub.unsubscribe();
    },
  };
}
