/**
 * The simulator's event queue: a binary min-heap on (time, insertion sequence). Equal times pop
 * in insertion order, so a run is a pure function of its inputs. Keys live in typed arrays next
 * to the payloads, so pushing and popping allocate nothing once the arrays have grown.
 */
export class EventQueue<T> {
  private times = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private items: (T | undefined)[] = new Array(1024);
  private n = 0;
  private nextSeq = 0;

  get size(): number {
    return this.n;
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    return this.n === 0 ? Infinity : this.times[0];
  }

  push(time: number, item: T): void {
    if (Number.isNaN(time)) throw new RangeError('EventQueue.push: time is NaN');
    if (this.n === this.times.length) this.grow();
    const seq = this.nextSeq++;
    let i = this.n++;
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent];
      if (pt < time || (pt === time && seqs[parent] < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent];
      items[i] = items[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
  }

  /** Removes and returns the earliest event; `lastTime` holds its time. Undefined when empty. */
  pop(): T | undefined {
    if (this.n === 0) return undefined;
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    const top = items[0];
    this.lastTime = times[0];
    const n = --this.n;
    const t = times[n];
    const s = seqs[n];
    const it = items[n];
    items[n] = undefined;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        const r = c + 1;
        if (r < n && (times[r] < times[c] || (times[r] === times[c] && seqs[r] < seqs[c]))) c = r;
        if (t < times[c] || (t === times[c] && s < seqs[c])) break;
        times[i] = times[c];
        seqs[i] = seqs[c];
        items[i] = items[c];
        i = c;
      }
      times[i] = t;
      seqs[i] = s;
      items[i] = it;
    }
    return top;
  }

  /** Time of the event last returned by {@link pop}. */
  lastTime = 0;

  private grow(): void {
    const cap = this.times.length * 2;
    const t = new Float64Array(cap);
    t.set(this.times);
    const s = new Float64Array(cap);
    s.set(this.seqs);
    this.times = t;
    this.seqs = s;
    this.items.length = cap;
  }
}
