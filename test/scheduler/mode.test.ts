/**
 * Live mode switching: `modeControl` on the control subject and the `mode` key of the config
 * bucket (what `tessera mode` writes). Bad control messages are refused and logged; the
 * scheduler keeps running. A restarted replica starts in the stored mode, not its flag's.
 */
import { Kvm } from '@nats-io/kv';
import { decodeRaw, encode } from '@tessera/protocol';
import type { ServiceProcess } from '@tessera/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { health, jobSpec, metric, registerNodes, startTestCell, submit, waitForJobs, waitUntil, type TestCell } from './harness.ts';

async function modeGauge(s: ServiceProcess): Promise<string | undefined> {
  for (const m of ['latency-first', 'quality-first', 'adaptive', 'state-sync']) {
    if ((await metric(s, 'tessera_scheduler_mode', { mode: m })) === 1) return m;
  }
  return undefined;
}

describe('scheduler: placement mode control', () => {
  let cell: TestCell;
  let s: ServiceProcess;

  beforeAll(async () => {
    cell = await startTestCell({ partitions: 4 });
    await registerNodes(cell, Array.from({ length: 4 }, (_, i) => ({ id: `m${i}`, cpu: 8000 })));
    s = await cell.startScheduler(['--mode', 'latency-first']);
  });
  afterAll(async () => {
    await cell?.stop();
  });

  it('refuses bad control messages with a typed error and keeps running', async () => {
    const subject = cell.subjects.controlMode;
    cell.nc.publish(subject, new Uint8Array([0xc1, 0xc1, 0xc1]));
    cell.nc.publish(subject, encode({ mode: 'fastest' }));
    cell.nc.publish(subject, encode({ nope: 1 }));
    cell.nc.publish(subject, new Uint8Array(0));
    const reply = decodeRaw((await cell.nc.request(subject, encode({ mode: 42 }), { timeout: 2_000 })).data) as { ok: boolean; error: { code: string } };
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid' } });

    await waitUntil('5 refusals to be counted', async () => (await metric(s, 'tessera_scheduler_refused_messages_total', { what: 'mode_control' })) === 5, 5_000);
    expect(s.child.exitCode).toBeNull();
    expect((await health(s)).status).toBe(200);
    expect(await modeGauge(s)).toBe('latency-first');
    expect(s.logs().filter((l) => l.msg === 'refused a mode control message').length).toBe(5);
  });

  it('switches mode on a good control message', async () => {
    const reply = decodeRaw((await cell.nc.request(cell.subjects.controlMode, encode({ mode: 'quality-first' }), { timeout: 2_000 })).data);
    expect(reply).toEqual({ ok: true });
    expect(await modeGauge(s)).toBe('quality-first');
    expect(await metric(s, 'tessera_scheduler_mode', { mode: 'latency-first' })).toBe(0);
    expect((await health(s)).body).toMatchObject({ mode: 'quality-first', effectiveMode: 'quality-first' });
  });

  it('follows the config bucket, and places jobs in state-sync mode', async () => {
    const kv = await new Kvm(cell.nc).create(cell.subjects.configBucket);
    await kv.put('mode', encode({ mode: 'state-sync' }));
    await waitUntil('the state-sync gauge', async () => (await modeGauge(s)) === 'state-sync', 5_000);
    await submit(cell, jobSpec('in-state-sync', [{ name: 'a', count: 8, cpu: 500 }]));
    await waitForJobs(cell, ['in-state-sync'], ['placed'], 10_000);

    await kv.put('mode', new TextEncoder().encode('not-a-mode'));
    await waitUntil('the refusal of a bad stored mode', async () => (await metric(s, 'tessera_scheduler_refused_messages_total', { what: 'mode_config' })) === 1, 5_000);
    expect(await modeGauge(s)).toBe('state-sync');
    await kv.put('mode', encode({ mode: 'state-sync' }));
  });

  it('starts a restarted replica in the stored mode, not its flag', async () => {
    await s.stop();
    s = await cell.startScheduler(['--mode', 'latency-first']);
    expect(await modeGauge(s)).toBe('state-sync');
    expect((await health(s)).body).toMatchObject({ mode: 'state-sync' });

    await cell.nc.request(cell.subjects.controlMode, encode({ mode: 'adaptive' }), { timeout: 2_000 });
    await waitUntil('adaptive mode', async () => (await modeGauge(s)) === 'adaptive', 5_000);
    // Adaptive starts quality-first while delays stay under the threshold.
    expect(await metric(s, 'tessera_scheduler_effective_mode', { mode: 'quality-first' })).toBe(1);
    await submit(cell, jobSpec('in-adaptive', [{ name: 'a', count: 4, cpu: 100 }]));
    await waitForJobs(cell, ['in-adaptive'], ['placed'], 10_000);
  });
});
