/** An in-memory commit log for the writer and snapshot unit tests (not a test file itself). */
import { decodeEntry, GENESIS_HASH, sealEntry, type LogEntry } from '../src/core/log-records.ts';
import { AppendError, type AppendOptions, type CommitLogPort } from '../src/shell/commit-log.ts';

export type AppendMode = 'ok' | 'fail' | 'store-then-fail';

export class MemLog implements CommitLogPort {
  readonly entries: Uint8Array[] = [];
  appends = 0;
  constructor(private readonly modes: readonly AppendMode[] = []) {}
  async lastSequence(): Promise<number> {
    return this.entries.length;
  }
  async append(bytes: Uint8Array, opts: AppendOptions): Promise<number> {
    const mode = this.modes[this.appends++] ?? 'ok';
    await Promise.resolve();
    if (mode === 'fail') throw new AppendError('injected failure');
    if (opts.expectLastSeq !== this.entries.length) throw new AppendError(`wrong last sequence ${opts.expectLastSeq}, is ${this.entries.length}`, { fenced: true });
    this.entries.push(bytes);
    if (mode === 'store-then-fail') throw new AppendError('injected timeout after the store');
    return this.entries.length;
  }
  /** Another writer's entry, chained after the last one stored (as a real writer would). */
  appendForeign(entry: Pick<LogEntry, 'at' | 'writer' | 'records'>): void {
    const last = this.entries.at(-1);
    const d = last === undefined ? undefined : decodeEntry(last);
    if (d !== undefined && !d.ok) throw new Error('the last entry does not decode');
    this.entries.push(sealEntry(entry, d?.hash ?? GENESIS_HASH).bytes);
  }

  async read(from: number, to: number, onEntry: (seq: number, data: Uint8Array) => void | Promise<void>): Promise<number> {
    for (let s = from; s <= to; s++) await onEntry(s, this.entries[s - 1]);
    return to - from + 1;
  }
}

