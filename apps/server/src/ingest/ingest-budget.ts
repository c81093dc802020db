/**
 * The server-wide bound on batches held in memory: read from a stream and not
 * yet committed (queued for the writer or being written). Once `limit` are
 * held, no stream is given its next read; streams wait in arrival order (so a
 * stream that keeps sending cannot starve the others) and are let through one
 * per batch committed. A stream always has one read outstanding, so that an
 * idle stream's next window is taken when it comes without holding budget
 * while it does not: held ≤ limit + open streams, and per stream ≤ its credit.
 */
export class IngestBudget {
  private used = 0;
  /** Insertion-ordered: the first waiter is let through first. */
  private readonly waiting = new Set<() => void>();
  /** Called whenever `held` or `queued` changed (metrics). */
  onChange: (held: number, queued: number) => void = () => undefined;

  constructor(readonly limit: number) {}

  /** Batches held. */
  get held(): number {
    return this.used;
  }

  /** Streams waiting to be read. */
  get queued(): number {
    return this.waiting.size;
  }

  /** True when a stream may be read now; otherwise `go` is queued and called when it may. */
  admit(go: () => void): boolean {
    if (this.used < this.limit && this.waiting.size === 0) return true;
    this.waiting.add(go);
    this.onChange(this.used, this.waiting.size);
    return false;
  }

  /** Withdraws a queued `go` (its stream closed). */
  withdraw(go: () => void): void {
    if (this.waiting.delete(go)) this.onChange(this.used, this.waiting.size);
  }

  /** A batch was read. */
  charge(): void {
    this.used++;
    this.onChange(this.used, this.waiting.size);
  }

  /** A batch held was committed (or failed): one waiting stream is let through per free batch. */
  release(): void {
    this.used--;
    for (let free = this.limit - this.used; free > 0 && this.waiting.size > 0; free--) {
      const [next] = this.waiting;
      this.waiting.delete(next);
      next();
    }
    this.onChange(this.used, this.waiting.size);
  }

  /**
   * The credit a stream is given while `streams` share the budget: an equal
   * share, at least 1 and at most `perStreamMax`.
   */
  creditFor(streams: number, perStreamMax: number): number {
    return Math.max(1, Math.min(perStreamMax, Math.floor(this.limit / Math.max(1, streams))));
  }
}
