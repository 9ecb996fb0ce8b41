/**
 * First in, first out: the order jobs were pushed (the JetStream consumer's order). Usage orders
 * nothing here; it only holds back the jobs whose queue is at its max (they keep their place).
 */
import { fitsUnderMax } from './drf-queue.ts';
import type { JobQueue, QueuedJob, QueueUsage } from './job-queue.ts';

export class FifoQueue<J extends QueuedJob = QueuedJob> implements JobQueue<J> {
  readonly kind = 'fifo';
  private items: (J | undefined)[] = [];
  private head = 0;
  private count = 0;

  push(job: J): void {
    this.items.push(job);
    this.count++;
  }

  next(usage?: QueueUsage): J | undefined {
    const tree = usage?.tree;
    if (tree === undefined || !tree.hasMax) {
      while (this.head < this.items.length) {
        const j = this.items[this.head];
        this.items[this.head++] = undefined;
        if (j !== undefined) {
          this.count--;
          this.compact();
          return j;
        }
      }
      return undefined;
    }
    for (let i = this.head; i < this.items.length; i++) {
      const j = this.items[i];
      if (j === undefined || (j.need !== undefined && !fitsUnderMax(tree.pathTo(j.queue), usage!.allocated, j.need))) continue;
      this.items[i] = undefined;
      this.count--;
      while (this.head < this.items.length && this.items[this.head] === undefined) this.head++;
      this.compact();
      return j;
    }
    return undefined;
  }

  remove(id: string): boolean {
    for (let i = this.head; i < this.items.length; i++) {
      if (this.items[i]?.id === id) {
        this.items[i] = undefined;
        this.count--;
        return true;
      }
    }
    return false;
  }

  get size(): number {
    return this.count;
  }

  waiting(): Map<string, J[]> {
    const out = new Map<string, J[]>();
    for (let i = this.head; i < this.items.length; i++) {
      const j = this.items[i];
      if (j === undefined) continue;
      let l = out.get(j.queue);
      if (l === undefined) out.set(j.queue, (l = []));
      l.push(j);
    }
    return out;
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
