import { encode } from '@tessera/protocol';
import { compileConfig, ConfigError } from '@tessera/runtime';
import { describe, expect, it } from 'vitest';
import { deriveConfig, schedulerFlags } from '../src/config.ts';
import { parseModeValue } from '../src/core/mode-value.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('parseModeValue', () => {
  it.each([
    ['msgpack {mode}', encode({ mode: 'quality-first' }), 'quality-first'],
    ['bare name', text('adaptive'), 'adaptive'],
    ['bare name with newline', text('state-sync\n'), 'state-sync'],
    ['JSON {mode}', text('{"mode":"latency-first"}'), 'latency-first'],
  ])('accepts %s', (_, bytes, mode) => {
    expect(parseModeValue(bytes)).toEqual({ ok: true, mode });
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['unknown mode (msgpack)', encode({ mode: 'fastest' })],
    ['unknown mode (text)', text('fastest')],
    ['garbage bytes', new Uint8Array([0xc1, 0xff, 0x00, 0x13])],
    ['JSON without mode', text('{"m":1}')],
    ['huge', new Uint8Array(5000).fill(65)],
  ])('refuses %s', (_, bytes) => {
    const v = parseModeValue(bytes);
    expect(v.ok).toBe(false);
  });
});

describe('scheduler flags', () => {
  it('has the documented defaults', () => {
    const c = deriveConfig(compileConfig(schedulerFlags, ['--nats', 'nats://127.0.0.1:4222']));
    expect(c).toMatchObject({ cell: 'default', mode: 'latency-first', syncMs: 100, scorer: 'binpack', maxRetries: 5, adaptiveThresholdMs: 1500, index: 0, count: 1 });
    expect(c.space.names).toEqual(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);
    expect(c.id).toMatch(/^s0-/);
    expect(c.seed).toBe(c.id);
  });

  it('parses every flag', () => {
    const c = deriveConfig(
      compileConfig(schedulerFlags, [
        '--nats', 'nats://a:1,nats://b:2', '--cell', 'c1', '--http-port', '9100', '--log-level', 'warn', '--resources', 'cpu_millis,mem_mib',
        '--id', 'sched-2', '--index', '2', '--count', '4', '--mode', 'state-sync', '--sync-ms', '50', '--scorer', 'spread',
        '--sample-size', '8', '--max-retries', '3', '--concurrency', '32', '--adaptive-threshold-ms', '900', '--seed', '42',
      ]),
    );
    expect(c).toMatchObject({ cell: 'c1', httpPort: 9100, logLevel: 'warn', id: 'sched-2', index: 2, count: 4, mode: 'state-sync', syncMs: 50, scorer: 'spread', sampleSize: 8, maxRetries: 3, concurrency: 32, adaptiveThresholdMs: 900, seed: '42' });
    expect(c.natsServers).toEqual(['nats://a:1', 'nats://b:2']);
    expect(c.space.names).toEqual(['cpu_millis', 'mem_mib']);
  });

  it.each([
    [[], '--nats'],
    [['--nats', 'x', '--mode', 'fastest'], '--mode'],
    [['--nats', 'x', '--index', '4', '--count', '4'], '--index'],
    [['--nats', 'x', '--id', 'a:b'], '--id'],
    [['--nats', 'x', '--sync-ms', '0'], '--sync-ms'],
    [['--nats', 'x', '--bogus', '1'], 'flags'],
  ])('refuses %j naming %s', (argv, flag) => {
    expect(() => compileConfig(schedulerFlags, argv)).toThrow(ConfigError);
    expect(() => compileConfig(schedulerFlags, argv)).toThrow(flag);
  });
});
