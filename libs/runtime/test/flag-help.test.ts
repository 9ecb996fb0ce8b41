import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { flagHelp, wantsHelp } from '../src/flag-help.ts';

describe('flagHelp', () => {
  const schema = z.object({
    nats: z.string().min(1),
    httpPort: z.coerce.number().int().default(0),
    mode: z.enum(['a', 'b']).default('a').describe('placement mode'),
    ratio: z.coerce.number().optional(),
    verbose: z.coerce.boolean().default(false),
  }).strict().refine(() => true);

  it('lists every flag of the schema with its kind, default and description', () => {
    const text = flagHelp('svc', schema);
    expect(text.split('\n')[0]).toBe('usage: svc --flag value …   (--flag=value works too)');
    expect(text).toMatch(/--nats VALUE\s+required/);
    expect(text).toMatch(/--http-port N\s+default 0/);
    expect(text).toMatch(/--mode a\|b\s+placement mode; default "a"/);
    expect(text).toMatch(/--ratio X\s+optional/);
    expect(text).toMatch(/--verbose\s+default false/);
  });
  it('spots --help and -h', () => {
    expect(wantsHelp(['--nats', 'x', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--nats', 'help'])).toBe(false);
  });
});
