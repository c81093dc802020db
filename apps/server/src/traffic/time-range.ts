import type { Segment } from '../storage/series-query';
import type { Resolution } from '../storage/series';

export type { Segment } from '../storage/series-query';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Up to this range, series come from raw windows; then 1 min; beyond, 1 h. */
export const RAW_UP_TO_MS = 6 * HOUR_MS;
export const MINUTE_UP_TO_MS = 7 * DAY_MS;

/** Longest range a series may span at each resolution (bounds the number of points). */
export const SERIES_MAX_RANGE_MS: Record<Resolution, number> = {
  raw: 2 * DAY_MS,
  '1m': 31 * DAY_MS,
  '1h': 800 * DAY_MS,
};

/** The resolution a series over [from, to) uses when none is asked for. */
export function autoResolution(from: Date, to: Date): Resolution {
  const span = to.getTime() - from.getTime();
  if (span <= RAW_UP_TO_MS) return 'raw';
  if (span <= MINUTE_UP_TO_MS) return '1m';
  return '1h';
}

const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

/**
 * Splits [from, to) so that totals read as few rows as possible and stay
 * exact: whole hours from the 1 h rollup, the whole minutes around them from
 * the 1 min rollup, and only the sub-minute edges from raw windows. A window
 * (or bucket) belongs to the instant it starts.
 */
export function exactPlan(from: Date, to: Date): Segment[] {
  const f = from.getTime();
  const t = to.getTime();
  if (t <= f) return [];
  const segs: Segment[] = [];
  const push = (resolution: Resolution, a: number, b: number) => {
    if (b > a) segs.push({ resolution, from: new Date(a), to: new Date(b) });
  };
  const m0 = ceilTo(f, MINUTE_MS);
  const m1 = floorTo(t, MINUTE_MS);
  if (m0 >= m1) {
    push('raw', f, t);
    return segs;
  }
  const h0 = ceilTo(m0, HOUR_MS);
  const h1 = floorTo(m1, HOUR_MS);
  push('raw', f, m0);
  if (h0 < h1) {
    push('1m', m0, h0);
    push('1h', h0, h1);
    push('1m', h1, m1);
  } else {
    push('1m', m0, m1);
  }
  push('raw', m1, t);
  return segs;
}

/** The plan for a total: one segment at a forced resolution, or the exact mix for `auto`. */
export function totalsPlan(from: Date, to: Date, resolution: Resolution | 'auto'): Segment[] {
  return resolution === 'auto' ? exactPlan(from, to) : [{ resolution, from, to }];
}
