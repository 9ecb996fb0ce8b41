/** Arguments shared by the GPU baselines (bestfit, packing, dotprod): only `resolution`. */
import { PluginArgsError } from '../errors.ts';
export const DEFAULT_RESOLUTION = 100;

/** `{ resolution?: integer ≥ 0 }` (default 100: FGD's integer scores 0..100; 0: exact). */
export function checkResolution(plugin: string, raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_RESOLUTION;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new PluginArgsError(plugin, `args must be an object {resolution?}`);
  const a = raw as Record<string, unknown>;
  for (const k of Object.keys(a)) if (k !== 'resolution') throw new PluginArgsError(plugin, `unknown arg "${k}"`);
  if (a.resolution === undefined) return DEFAULT_RESOLUTION;
  if (!(Number.isInteger(a.resolution) && (a.resolution as number) >= 0)) throw new PluginArgsError(plugin, `resolution must be an integer ≥ 0`);
  return a.resolution as number;
}
