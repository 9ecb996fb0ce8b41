import { ResourceSpace } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { aJob, nodeRegs } from '../src/builders.ts';
import { MemoryCell } from '../src/harness.ts';

describe('MemoryCell', () => {
  it('records every transaction and refuses on demand (RejectPlan), then commits for real', () => {
    const space = ResourceSpace.default;
    const m = new MemoryCell(space).addNodes(nodeRegs(1, { cpu_millis: 1000, mem_mib: 1000 }));
    const claim = { taskId: 'j/t/0', jobId: 'j', nodeId: 'n0', demand: space.vector({ cpu_millis: 500 }), seenVersion: 1 };
    m.refuseNext(1, 'version');
    expect(m.commit({ id: 'a', schedulerId: 's', kind: 'incremental', claims: [claim] }).rejected[0].reason).toBe('version');
    expect(m.commit({ id: 'b', schedulerId: 's', kind: 'incremental', claims: [claim] }).committed).toEqual(['j/t/0']);
    expect(m.txns.map((r) => [r.txn.id, r.forced])).toEqual([['a', true], ['b', false]]);
    expect(m.committedTasks()).toEqual(['j/t/0']);
    expect(m.endTask('j/t/0')).toBe(true);
    expect(aJob('j').queue('prod').group('t', 2, { cpu_millis: 1 }).obj().queue).toBe('prod');
  });
});
