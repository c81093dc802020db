// Comparison with a past period and the chart's zoom, in the URL like the range itself:
// `?compare=1d|7d` overlays the same range one day or one week earlier (`off` or nothing: no
// comparison); a brushed stretch of the chart becomes an absolute `from`/`to`.
import { first, rangeSearch, SearchParams, TimeRange } from './range';

export const COMPARE_OFFSETS = ['1d', '7d'] as const;
export type CompareOffset = (typeof COMPARE_OFFSETS)[number];

// Fixed lengths, not calendar days: the console's zones (Asia/Shanghai by default) keep no DST.
const OFFSET_MS: Record<CompareOffset, number> = { '1d': 86_400_000, '7d': 7 * 86_400_000 };

export function offsetMs(offset: CompareOffset): number {
  return OFFSET_MS[offset];
}

/** The comparison the URL asks for; anything but `1d` or `7d` means none. */
export function parseCompare(params: SearchParams): CompareOffset | null {
  const v = first(params, 'compare');
  return (COMPARE_OFFSETS as readonly string[]).includes(v ?? '') ? (v as CompareOffset) : null;
}

/** The URL search string with the comparison set (or removed), keeping every other param. */
export function compareSearch(params: SearchParams, offset: CompareOffset | null): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (k === 'compare' || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  if (offset) out.set('compare', offset);
  return out.toString();
}

/** The compared period: the same range, `offset` earlier. */
export function comparedRange(range: TimeRange, offset: CompareOffset): { from: Date; to: Date } {
  const ms = OFFSET_MS[offset];
  return { from: new Date(range.from.getTime() - ms), to: new Date(range.to.getTime() - ms) };
}

/** Points of the compared period moved onto the current time axis (`ms` later). */
export function shiftPoints<P extends { t: string }>(points: P[], ms: number): P[] {
  return points.map((p) => ({ ...p, t: new Date(Date.parse(p.t) + ms).toISOString() }));
}

/**
 * The change from `previous` to `current` as a ratio (0.25 = 25 % more), to 1/10,000 exactly;
 * null when there is nothing to compare with (no data in either period, or previous is zero).
 */
export function changeRatio(current: bigint | null, previous: bigint | null): number | null {
  if (current === null || previous === null || previous === 0n) return null;
  return Number(((current - previous) * 10_000n) / previous) / 10_000;
}

/**
 * The absolute range a drag over the chart selected (epoch ms, either order), widened to whole
 * seconds; null when the drag selected no time at all.
 */
export function brushedRange(a: number, b: number): { from: Date; to: Date } | null {
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return null;
  const from = Math.floor(Math.min(a, b) / 1000) * 1000;
  const to = Math.ceil(Math.max(a, b) / 1000) * 1000;
  return { from: new Date(from), to: new Date(to) };
}

/** The URL search string of a brushed range, keeping the comparison and every other param. */
export function brushSearch(params: SearchParams, a: number, b: number): string | null {
  const r = brushedRange(a, b);
  return r ? rangeSearch(params, r) : null;
}

/**
 * The range twice as long around the same centre; when that would end after `now`, it ends at
 * `now` instead (same length), since nothing after now can have data.
 */
export function zoomOut(range: { from: Date; to: Date }, now: Date): { from: Date; to: Date } {
  const len = range.to.getTime() - range.from.getTime();
  const centre = range.from.getTime() + len / 2;
  const end = Math.min(Math.ceil(centre + len), Math.floor(now.getTime() / 1000) * 1000);
  const to = Math.max(end, range.to.getTime());
  return { from: new Date(to - 2 * len), to: new Date(to) };
}
