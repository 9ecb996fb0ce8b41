/**
 * The task-shape mix FGD scores against, learned from recent arrivals: the shapes of the last
 * `size` distinct tasks seen (a ring; a task seen again, e.g. on a retry, is not counted twice
 * while it is in the window), turned into FGD's typical mix (most frequent shapes covering
 * `coverage` of the window, re-normalised). Recomputed lazily, only after the window changed.
 */
import { EMPTY_MIX, typicalMix, type ShapeMix } from './frag.ts';
import type { TaskShape } from './shapes.ts';

export class ShapeWindow {
  readonly size: number;
  readonly coverage: number;
  private readonly ringShapes: (TaskShape | undefined)[];
  private next = 0;
  private readonly ids = new Set<string>();
  private readonly ringIds: (string | undefined)[];
  private mix: ShapeMix = EMPTY_MIX;
  private dirty = false;

  constructor(size: number, coverage = 0.95) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a shape window holds at least 1 task, got ${size}`);
    this.size = size;
    this.coverage = coverage;
    this.ringShapes = new Array(size);
    this.ringIds = new Array(size);
  }

  /** Counts a task's shape (once per task id while the task is in the window). */
  observe(taskId: string, shape: TaskShape): void {
    if (this.ids.has(taskId)) return;
    const old = this.ringIds[this.next];
    if (old !== undefined) this.ids.delete(old);
    this.ringIds[this.next] = taskId;
    this.ringShapes[this.next] = shape;
    this.ids.add(taskId);
    this.next = (this.next + 1) % this.size;
    this.dirty = true;
  }

  get observed(): number {
    return this.ids.size;
  }

  /** The typical mix of the window. */
  current(): ShapeMix {
    if (this.dirty) {
      const shapes: TaskShape[] = [];
      for (const s of this.ringShapes) if (s !== undefined) shapes.push(s);
      this.mix = typicalMix(shapes, this.coverage);
      this.dirty = false;
    }
    return this.mix;
  }
}
