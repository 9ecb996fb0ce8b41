import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, SimDriver } from '../src/shell/drivers.ts';

describe('SimDriver', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a task asking longer than one timer can wait (a year) for its whole run time', () => {
    vi.useFakeTimers();
    const ended: string[] = [];
    const d = new SimDriver({ timeScale: 1, defaultDurationS: Infinity }, (id) => ended.push(id));
    const yearS = 31_536_000;
    d.start({ taskId: 'j/t/0', jobId: 'j', nodeId: 'n', resources: {}, durationS: yearS });
    d.start({ taskId: 'j/t/1', jobId: 'j', nodeId: 'n', resources: {}, durationS: 2 });
    vi.advanceTimersByTime(2_000);
    expect(ended).toEqual(['j/t/1']);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(ended).toEqual(['j/t/1']);
    vi.advanceTimersByTime(yearS * 1000 - MAX_TIMER_MS - 2_001);
    expect(ended).toEqual(['j/t/1']);
    vi.advanceTimersByTime(2);
    expect(ended).toEqual(['j/t/1', 'j/t/0']);
  });

  it('stops a long task between its timer steps', () => {
    vi.useFakeTimers();
    const ended: string[] = [];
    const d = new SimDriver({ timeScale: 1, defaultDurationS: Infinity }, (id) => ended.push(id));
    d.start({ taskId: 'a', jobId: 'j', nodeId: 'n', resources: {}, durationS: 31_536_000 });
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    d.stop('a');
    vi.advanceTimersByTime(31_536_000_000);
    expect(ended).toEqual([]);
  });
});
