// The time range of a view lives in the URL: `?range=1h` (a preset, relative to now) or
// `?from=<ISO>&to=<ISO>` (absolute). Every view is a permalink.

export const RANGE_PRESETS = ['15m', '1h', '6h', '24h', '7d', '30d'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];
export const DEFAULT_PRESET: RangePreset = '1h';

const PRESET_MS: Record<RangePreset, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
};

export interface TimeRange {
  from: Date;
  to: Date;
  /** The preset the range came from; null for an absolute range. */
  preset: RangePreset | null;
}

export type SearchParams = Record<string, string | string[] | undefined>;

export function first(params: SearchParams, key: string): string | undefined {
  const v = params[key];
  return Array.isArray(v) ? v[0] : v;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseInstant(s: string | undefined): Date | null {
  if (!s || !ISO.test(s)) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function presetMs(preset: RangePreset): number {
  return PRESET_MS[preset];
}

/**
 * The range the URL asks for. An absolute range wins when both ends are valid and from < to;
 * otherwise the preset (default `fallback`, 1 h) ending at `now`, rounded down to the second.
 */
export function parseRange(
  params: SearchParams,
  now: Date,
  fallback: RangePreset = DEFAULT_PRESET,
): TimeRange {
  const from = parseInstant(first(params, 'from'));
  const to = parseInstant(first(params, 'to'));
  if (from && to && from.getTime() < to.getTime()) return { from, to, preset: null };
  const asked = first(params, 'range');
  const preset = (RANGE_PRESETS as readonly string[]).includes(asked ?? '')
    ? (asked as RangePreset)
    : fallback;
  const end = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { from: new Date(end.getTime() - PRESET_MS[preset]), to: end, preset };
}

/** The URL search string for a range (preset or absolute), keeping the other params. */
export function rangeSearch(
  params: SearchParams,
  range: { preset: RangePreset } | { from: Date; to: Date },
): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (k === 'range' || k === 'from' || k === 'to' || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  if ('preset' in range) out.set('range', range.preset);
  else {
    out.set('from', range.from.toISOString());
    out.set('to', range.to.toISOString());
  }
  return out.toString();
}

/** The same length of time just before (-1) or after (+1) the range, as an absolute range. */
export function shiftRange(range: TimeRange, direction: -1 | 1): { from: Date; to: Date } {
  const len = range.to.getTime() - range.from.getTime();
  return {
    from: new Date(range.from.getTime() + direction * len),
    to: new Date(range.to.getTime() + direction * len),
  };
}

/** A search string from params (for permalinks, sign-in return paths). */
export function toSearch(params: SearchParams): string {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  const s = out.toString();
  return s ? `?${s}` : '';
}
