/**
 * `--help` for every service: the flags of its zod schema — name, kind of value, default, and
 * `.describe()` text where the schema has one — read from the schema itself, so the help never
 * drifts from what `compileConfig` accepts.
 */
import type { z } from 'zod';

interface Def { typeName?: string; innerType?: z.ZodTypeAny; schema?: z.ZodTypeAny; in?: z.ZodTypeAny; values?: readonly string[]; defaultValue?: () => unknown; checks?: { kind: string }[] }
const defOf = (t: z.ZodTypeAny) => t._def as Def;

/** The object schema under refinements, transforms and pipes. */
function objectOf(schema: z.ZodTypeAny): z.AnyZodObject | undefined {
  let t: z.ZodTypeAny | undefined = schema;
  for (let i = 0; t !== undefined && i < 20; i++) {
    const d = defOf(t);
    if (d.typeName === 'ZodObject') return t as z.AnyZodObject;
    t = d.schema ?? d.innerType ?? d.in;
  }
  return undefined;
}

function describeValue(t: z.ZodTypeAny): { kind: string; def?: unknown; optional: boolean; text?: string } {
  let optional = false;
  let def: unknown;
  let text = t.description;
  let cur: z.ZodTypeAny | undefined = t;
  for (let i = 0; cur !== undefined && i < 20; i++) {
    const d = defOf(cur);
    text ??= cur.description;
    if (d.typeName === 'ZodOptional') optional = true;
    if (d.typeName === 'ZodDefault') { def = d.defaultValue?.(); optional = true; }
    const inner: z.ZodTypeAny | undefined = d.innerType ?? d.schema ?? d.in;
    if (inner === undefined) break;
    cur = inner;
  }
  const d = cur === undefined ? {} : defOf(cur);
  const kind = d.typeName === 'ZodEnum' ? (d.values ?? []).join('|')
    : d.typeName === 'ZodNumber' ? (d.checks?.some((c) => c.kind === 'int') ? 'N' : 'X')
      : d.typeName === 'ZodBoolean' ? '' : 'VALUE';
  return { kind, def, optional, text };
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function flagHelp(service: string, schema: z.ZodTypeAny): string {
  const obj = objectOf(schema);
  const lines = [`usage: ${service} --flag value …   (--flag=value works too)`, '', 'flags:'];
  const rows = Object.entries(obj?.shape ?? {}).map(([name, t]) => {
    const v = describeValue(t as z.ZodTypeAny);
    const left = `  --${kebab(name)}${v.kind !== '' ? ` ${v.kind}` : ''}`;
    const right = [v.text, v.def !== undefined ? `default ${JSON.stringify(v.def)}` : v.optional ? 'optional' : 'required'].filter((x) => x !== undefined).join('; ');
    return [left, right] as const;
  });
  const width = Math.min(40, Math.max(...rows.map(([l]) => l.length), 0) + 2);
  for (const [l, r] of rows) lines.push(`${l.length + 2 > width ? `${l}  ` : l.padEnd(width)}${r}`);
  return `${lines.join('\n')}\n`;
}

/** `--help` / `-h` anywhere in the arguments. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h');
