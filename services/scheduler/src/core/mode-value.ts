/**
 * The placement mode as it arrives from outside: a `modeControl` message on the control subject
 * (msgpack `{mode}`) or the value of the `mode` key in the config bucket, which writers may have
 * stored as msgpack `{mode}`, JSON `{"mode":…}` or the bare name. Anything else is refused.
 */
import { isPlacementMode, type PlacementMode } from '@tessera/policy';
import { decodeAs, modeControl } from '@tessera/protocol';

export type ModeValue = { ok: true; mode: PlacementMode } | { ok: false; reason: string };

const MAX_BYTES = 1024;

export function parseModeValue(bytes: Uint8Array): ModeValue {
  if (bytes.length === 0) return { ok: false, reason: 'empty value' };
  if (bytes.length > MAX_BYTES) return { ok: false, reason: `value of ${bytes.length} bytes is too large` };
  const packed = decodeAs(bytes, modeControl, MAX_BYTES);
  if (packed.ok) return { ok: true, mode: packed.value.mode };
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes).trim();
  if (isPlacementMode(text)) return { ok: true, mode: text };
  if (text.startsWith('{')) {
    try {
      const parsed = modeControl.safeParse(JSON.parse(text));
      if (parsed.success) return { ok: true, mode: parsed.data.mode };
    } catch {
      // not JSON either: fall through to the refusal below
    }
  }
  const detail = packed.error.code === 'invalid' ? `${packed.error.message}${packed.error.path ? ` at ${packed.error.path}` : ''}` : 'not a mode';
  return { ok: false, reason: `not a placement mode (${detail}); expected one of latency-first, quality-first, adaptive, state-sync` };
}
