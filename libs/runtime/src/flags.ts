/**
 * Service options are compiled once at start-up into a frozen, validated config object:
 * `--some-flag value` pairs (kebab-case → camelCase) checked against a zod schema. Nothing deeper
 * in a service reads process.env or argv.
 */
import type { z } from 'zod';
import { flagHelp, wantsHelp } from './flag-help.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parses `--k v`, `--k=v` and bare `--flag` (true) into a record. Positional arguments are refused. */
export function parseFlagPairs(argv: readonly string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument "${a}" (flags look like --name value)`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      out[camel(a.slice(2, eq))] = a.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      out[camel(a.slice(2))] = argv[++i];
    } else {
      out[camel(a.slice(2))] = true;
    }
  }
  return out;
}

/** Validates flags against `schema` (use z.coerce for numbers) and freezes the result. */
export function compileConfig<S extends z.ZodTypeAny>(schema: S, argv: readonly string[]): Readonly<z.output<S>> {
  if (wantsHelp(argv)) {
    // `<service> --help`: the flags, from the schema itself, on stdout; exit 0.
    const service = /services\/([^/]+)\//.exec(process.argv[1] ?? '')?.[1] ?? 'tessera service';
    process.stdout.write(flagHelp(service, schema));
    process.exit(0);
  }
  const raw = parseFlagPairs(argv);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = issue.path.length > 0 ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'flags';
    throw new ConfigError(`${flag}: ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}
