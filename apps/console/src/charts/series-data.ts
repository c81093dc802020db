// Turns the server's series points (bytes per window or bucket, decimal strings) into rate
// lines for a chart, with a break wherever no window arrived: a gap is drawn as a gap, never
// as a line joining both sides or as a fall to zero.

export interface ApiPoint {
  t: string;
  key: string;
  packets: string;
  bytes: string;
}

/** [epoch ms, bits per second] or [epoch ms, null] where the line must break. */
export type ChartPoint = [number, number | null];

export interface RateLine {
  key: string;
  points: ChartPoint[];
  /** Highest window rate of the line, and when (null for an empty line). */
  max: { t: number; bitsPerSecond: number } | null;
}

/**
 * The length of one step: the server's stepSeconds for rollups; for raw windows (null) the
 * smallest spacing between distinct window starts (10 s when there are fewer than two).
 */
export function stepMs(points: ApiPoint[], stepSeconds: number | null): number {
  if (stepSeconds && stepSeconds > 0) return stepSeconds * 1000;
  const times = [...new Set(points.map((p) => Date.parse(p.t)))].sort((a, b) => a - b);
  let best = Infinity;
  for (let i = 1; i < times.length; i++) best = Math.min(best, times[i] - times[i - 1]);
  return Number.isFinite(best) ? best : 10_000;
}

export function rateLines(
  points: ApiPoint[],
  stepSeconds: number | null,
  keys?: string[],
): RateLine[] {
  const step = stepMs(points, stepSeconds);
  const byKey = new Map<string, Map<number, bigint>>();
  for (const k of keys ?? []) byKey.set(k, new Map());
  for (const p of points) {
    const m = byKey.get(p.key) ?? new Map<number, bigint>();
    byKey.set(p.key, m);
    const t = Date.parse(p.t);
    m.set(t, (m.get(t) ?? 0n) + BigInt(p.bytes));
  }
  // One time axis for every line: a step that some line has and another lacks is zero for the
  // other only if the host reported that window at all (it is in `all`); else it is a gap.
  const all = [...new Set(points.map((p) => Date.parse(p.t)))].sort((a, b) => a - b);
  const lines: RateLine[] = [];
  for (const [key, m] of byKey) {
    const out: ChartPoint[] = [];
    let max: RateLine['max'] = null;
    for (let i = 0; i < all.length; i++) {
      const t = all[i];
      if (i > 0 && t - all[i - 1] > step * 1.5) out.push([all[i - 1] + step, null]);
      const bits = Number(m.get(t) ?? 0n) * 8;
      const bps = bits / (step / 1000);
      out.push([t, bps]);
      if (!max || bps > max.bitsPerSecond) max = { t, bitsPerSecond: bps };
    }
    lines.push({ key, points: out, max });
  }
  return lines;
}

/** Gaps (no window from the host) inside [from, to): the stretches a chart leaves empty. */
export function gaps(
  points: ApiPoint[],
  stepSeconds: number | null,
  from: number,
  to: number,
): { from: number; to: number }[] {
  const step = stepMs(points, stepSeconds);
  const all = [...new Set(points.map((p) => Date.parse(p.t)))].sort((a, b) => a - b);
  if (all.length === 0) return [{ from, to }];
  const out: { from: number; to: number }[] = [];
  if (all[0] - from > step * 1.5) out.push({ from, to: all[0] });
  for (let i = 1; i < all.length; i++) {
    if (all[i] - all[i - 1] > step * 1.5) out.push({ from: all[i - 1] + step, to: all[i] });
  }
  const end = all[all.length - 1] + step;
  if (to - end > step * 1.5) out.push({ from: end, to });
  return out;
}

/** Whether the points carry any traffic at all (windows arrived but counted zero bytes). */
export function allZero(points: ApiPoint[]): boolean {
  return points.every((p) => p.bytes === '0' && p.packets === '0');
}
