/**
 * Pipeline specs as configuration: validated from untrusted input (a flag value, a config file)
 * into a {@link PipelineSpec}, refused with the path of the bad field. Text may be JSON or YAML.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PipelineSpecError } from './errors.ts';
import type { PipelineSpec } from './pipeline.ts';
import type { PluginRegistry } from './registry.ts';
import { defaultRegistry } from './registry.ts';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a plugin name: 1-64 of a-z 0-9 -, starting with a letter');
const ref = z.union([name, z.object({ name, args: z.unknown().optional() }).strict()]);
const scorerRef = z.union([name, z.object({ name, weight: z.number().finite().min(0).max(1_000_000).optional(), args: z.unknown().optional() }).strict()]);

export const pipelineSpecSchema = z
  .object({
    filters: z.array(ref).max(64).optional(),
    scorers: z.array(scorerRef).min(1, 'a pipeline needs at least one scorer').max(64),
    postFilters: z.array(ref).max(16).optional(),
  })
  .strict();

function pathOf(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out || '(root)';
}

/**
 * Validates a spec's shape and that every plugin it names is registered. Throws
 * PipelineSpecError (with the path of the bad field); factories check their own args when built.
 */
export function parsePipelineSpec(input: unknown, registry: PluginRegistry = defaultRegistry): PipelineSpec {
  const r = pipelineSpecSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PipelineSpecError(pathOf(i.path), i.message);
  }
  const spec = r.data as PipelineSpec;
  const check = (list: readonly (string | { name: string })[] | undefined, key: string, has: (n: string) => boolean, known: string[]) => {
    list?.forEach((x, i) => {
      const n = typeof x === 'string' ? x : x.name;
      if (!has(n)) throw new PipelineSpecError(`${key}[${i}]${typeof x === 'string' ? '' : '.name'}`, `unknown plugin "${n}" (known: ${known.join(', ')})`);
    });
  };
  check(spec.filters, 'filters', (n) => registry.hasFilter(n), registry.filterNames);
  check(spec.scorers, 'scorers', (n) => registry.hasScorer(n), registry.scorerNames);
  check(spec.postFilters, 'postFilters', (n) => registry.hasPostFilter(n), registry.postFilterNames);
  return spec;
}

/** Parses JSON or YAML text (a `--pipeline` value or a config file's content) into a spec. */
export function pipelineSpecFromText(text: string, registry: PluginRegistry = defaultRegistry): PipelineSpec {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new PipelineSpecError('(root)', `not JSON or YAML: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  return parsePipelineSpec(raw, registry);
}
