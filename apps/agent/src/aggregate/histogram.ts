/** Upper bounds (ms) of the connection-duration histogram. */
export const DURATION_BOUNDS_MS = [1, 10, 100, 1000, 10_000, 60_000, 600_000, 3_600_000];

/**
 * Cumulative like Prometheus: counts[i] is the number of durations <= bounds[i];
 * the last count (no bound) is the total.
 */
export class DurationHistogram {
  private counts = new Array<number>(DURATION_BOUNDS_MS.length + 1).fill(0);
  private sum = 0;

  observe(ms: number): void {
    this.sum += ms;
    for (let i = 0; i < DURATION_BOUNDS_MS.length; i++) {
      if (ms <= DURATION_BOUNDS_MS[i]) this.counts[i]++;
    }
    this.counts[DURATION_BOUNDS_MS.length]++;
  }

  snapshot(): { bounds: number[]; counts: number[]; sum: number } {
    return { bounds: [...DURATION_BOUNDS_MS], counts: [...this.counts], sum: this.sum };
  }
}
