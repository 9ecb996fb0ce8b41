/**
 * The committer's queue usage as this replica last heard it (shipped with every sync reply,
 * DESIGN §10), in the form the JobQueue orders by. The queue file it carries is parsed again only
 * when its version changes. `onChange` lets the job runner look at its waiting jobs again (a queue
 * that was at its max may have room now): no polling, the sync loop's replies drive it.
 */
import { parseQueueFile, quotaUsageOf, type QueueTree, type QuotaUsage, type ResourceSpace, type ResourceVector } from '@tessera/core';
import type { WireQueueUsage } from '@tessera/protocol';
import type { QueueUsage } from '@tessera/replica';
import type { Logger } from '@tessera/runtime';

export class QueueUsageView {
  private usage: QueueUsage | undefined;
  private tree: QueueTree | undefined;
  private version = -1;
  onChange: (() => void) | undefined;

  constructor(private readonly space: ResourceSpace, private readonly log: Logger) {}

  /** The last usage heard (undefined before the first sync reply that carried one). */
  current(): QueueUsage | undefined {
    return this.usage;
  }

  /** The usage as reclaim reads it (guarantees, weights); undefined without a queue file with guarantees. */
  quotaUsage(): QuotaUsage | undefined {
    const u = this.usage;
    return u === undefined ? undefined : quotaUsageOf(this.tree, u.allocated, u.capacity);
  }

  /** The queue tree in force (undefined: no queue file applied). */
  get queues(): QueueTree | undefined {
    return this.tree;
  }

  update(wire: WireQueueUsage | undefined): void {
    if (wire === undefined) return;
    const dims = this.space.size;
    if (wire.capacity.length !== dims) return;
    if (wire.version !== this.version) {
      this.version = wire.version;
      if (wire.file === undefined) this.tree = undefined;
      else {
        const r = parseQueueFile(wire.file, this.space);
        if (r.ok) this.tree = r.tree;
        else this.log.warn({ path: r.error.path, error: r.error.message }, 'the cell\'s queue file does not parse here; ordering without it');
      }
    }
    const allocated = new Map<string, ResourceVector>();
    for (const [q, v] of Object.entries(wire.allocated)) if (v.length === dims) allocated.set(q, Float64Array.from(v));
    this.usage = { capacity: Float64Array.from(wire.capacity), allocated, ...(this.tree === undefined ? {} : { tree: this.tree }) };
    this.onChange?.();
  }
}
