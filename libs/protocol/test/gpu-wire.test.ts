/** GPU devices on the wire (DESIGN §12): node snapshots carry per-device milli, claims and assignments name devices. */
import { ResourceSpace, type Claim, type NodeSnapshot } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  assignMessage, assignMessageFast, claimFromWire, claimToWire, commitRequest, commitRequestFast, nodeFromWire, nodeToWire, syncReply, syncReplyFast,
} from '../src/index.ts';

const space = ResourceSpace.of(['cpu_millis', 'mem_mib', 'gpu', 'gpu_milli']);

describe('GPU fields on the wire', () => {
  it('round-trips a node\'s per-device milli and a claim\'s devices', () => {
    const n: NodeSnapshot = { id: 'n1', partition: 0, labels: { gpu_model: 'G2' }, capacity: Float64Array.of(96_000, 0, 8, 8000), allocated: Float64Array.of(0, 0, 1, 1500), condition: 'ready', version: 3, gpus: Float64Array.of(1000, 500, 0, 0, 0, 0, 0, 0) };
    expect(nodeFromWire(space, nodeToWire(n))).toEqual(n);
    const c: Claim = { taskId: 't', jobId: 'j', nodeId: 'n1', demand: Float64Array.of(0, 0, 0, 500), seenVersion: 3, devices: [1] };
    expect(claimFromWire(space, claimToWire(c)).devices).toEqual([1]);
    const plain: Claim = { taskId: 't', jobId: 'j', nodeId: 'n1', demand: Float64Array.of(1, 0, 0, 0), seenVersion: 3 };
    expect('devices' in claimFromWire(space, claimToWire(plain))).toBe(false);
  });

  it.each([
    ['zod', commitRequest, assignMessage, syncReply],
    ['fast', commitRequestFast, assignMessageFast, syncReplyFast],
  ] as const)('%s validators accept device lists and refuse bad ones', (_name, commit, assign, sync) => {
    const claim = (devices: unknown) => ({ taskId: 't', jobId: 'j', nodeId: 'n', demand: [0, 0, 0, 500], seenVersion: 0, devices });
    const req = (devices: unknown) => ({ resources: space.names, txns: [{ id: 'x', schedulerId: 's', kind: 'incremental', claims: [claim(devices)] }] });
    expect(commit.safeParse(req([0])).success).toBe(true);
    expect(commit.safeParse(req([-1])).success).toBe(false);
    expect(commit.safeParse(req([0.5])).success).toBe(false);
    expect(assign.safeParse({ assignments: [{ taskId: 't', jobId: 'j', nodeId: 'n', resources: {}, devices: [2, 3] }] }).success).toBe(true);
    expect(assign.safeParse({ assignments: [{ taskId: 't', jobId: 'j', nodeId: 'n', resources: {}, devices: 'a' }] }).success).toBe(false);
    const node = (gpus: unknown) => ({ id: 'n', partition: 0, labels: {}, capacity: [1], allocated: [0], gpus, condition: 'ready', version: 1 });
    expect(sync.safeParse({ ok: true, partitions: 1, syncs: [{ partition: 0, version: 1, kind: 'snapshot', nodes: [node([0, 500])] }] }).success).toBe(true);
    expect(sync.safeParse({ ok: true, partitions: 1, syncs: [{ partition: 0, version: 1, kind: 'snapshot', nodes: [node([-5])] }] }).success).toBe(false);
  });
});
