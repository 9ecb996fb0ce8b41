/** A growable array of numbers (one typed array, doubled when full) and its order statistics. */
export class Samples {
  private data = new Float64Array(256);
  private n = 0;
  private total = 0;
  private sorted = true;

  get count(): number {
    return this.n;
  }

  get sum(): number {
    return this.total;
  }

  add(x: number): void {
    if (this.n === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    if (this.n > 0 && x < this.data[this.n - 1]) this.sorted = false;
    this.data[this.n++] = x;
    this.total += x;
  }

  mean(): number {
    return this.n === 0 ? 0 : this.total / this.n;
  }

  /** Nearest-rank percentile (q in [0, 100]); 0 when empty. */
  percentile(q: number): number {
    if (this.n === 0) return 0;
    if (!this.sorted) {
      this.data.subarray(0, this.n).sort();
      this.sorted = true;
    }
    const rank = Math.max(1, Math.ceil((q / 100) * this.n));
    return this.data[Math.min(this.n, rank) - 1];
  }

  max(): number {
    return this.percentile(100);
  }
}
