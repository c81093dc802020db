// Every figure a view shows goes through these, with the page's locale and an explicit time
// zone: never toString() in a view. Counters arrive as exact decimal strings (64-bit sums).

const BIT_UNITS = ['bit/s', 'Kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];
const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** An exact counter, grouped for the locale ("1,234,567"); BigInt keeps every digit. */
export function formatCount(locale: string, value: string | number | bigint): string {
  const n = typeof value === 'string' ? BigInt(value) : value;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/** An identifier-like number (a port): the locale's digits, never grouped. */
export function formatPlain(locale: string, value: number): string {
  return new Intl.NumberFormat(locale, { useGrouping: false, maximumFractionDigits: 0 }).format(
    value,
  );
}

/** A decimal number with at most `digits` fraction digits. */
export function formatDecimal(locale: string, value: number, digits = 2): string {
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

/** Compact counts for headlines: 万/亿 in zh-CN, K/M/B in en. */
export function formatCompact(locale: string, value: string | number): string {
  const n = typeof value === 'string' ? Number(value) : value;
  return new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).format(n);
}

function scaled(value: number, base: number, units: string[]): { value: number; unit: string } {
  let i = 0;
  let v = Math.abs(value);
  while (v >= base && i < units.length - 1) {
    v /= base;
    i += 1;
  }
  return { value: Math.sign(value) * v, unit: units[i] };
}

function significant(locale: string, value: number): string {
  // Three significant digits, but never more fraction digits than 2 (1.23, 12.3, 123).
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value);
}

/** bit/s, Kbit/s, Mbit/s, Gbit/s (SI, 1000). */
export function formatBitRate(locale: string, bitsPerSecond: number): string {
  const s = scaled(bitsPerSecond, 1000, BIT_UNITS);
  return `${significant(locale, s.value)} ${s.unit}`;
}

/** B, KiB, MiB, GiB (IEC, 1024); exact counts stay available through formatCount. */
export function formatBytes(locale: string, bytes: string | number): string {
  const s = scaled(typeof bytes === 'string' ? Number(bytes) : bytes, 1024, BYTE_UNITS);
  return s.unit === 'B'
    ? `${formatCount(locale, Math.round(s.value))} B`
    : `${significant(locale, s.value)} ${s.unit}`;
}

/** A share of a whole, as a percentage for the locale ("42.5%"). */
export function formatPercent(locale: string, part: bigint, whole: bigint): string {
  if (whole === 0n) return new Intl.NumberFormat(locale, { style: 'percent' }).format(0);
  const perMille = Number((part * 10000n) / whole) / 10000;
  return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(
    perMille,
  );
}

/** 24-hour date and time in an explicit zone, the zone's offset after it ("2026/12/02 00:30:05 GMT+8"). */
export function formatDateTime(
  locale: string,
  timeZone: string,
  value: string | number | Date,
): string {
  const d = value instanceof Date ? value : new Date(value);
  const text = new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(d);
  return `${text} ${offsetName(locale, timeZone, d)}`;
}

function offsetName(locale: string, timeZone: string, at: Date): string {
  const part = new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'shortOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? timeZone;
}

/** Chart axis labels: seconds for short ranges, the date for long ones (the zone is in the axis title). */
export function formatAxisTime(
  locale: string,
  timeZone: string,
  value: number,
  spanMs: number,
): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    ...(spanMs > 86_400_000 ? { month: '2-digit', day: '2-digit' } : {}),
    hour: '2-digit',
    minute: '2-digit',
    ...(spanMs <= 3_600_000 ? { second: '2-digit' } : {}),
    hourCycle: 'h23',
  }).format(new Date(value));
}

/** ISO 8601 in the given zone with its offset ("2026-12-02T03:24:00+08:00"), for URL and forms. */
export function isoInZone(value: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(value)
      .map((p) => [p.type, p.value]),
  );
  const offset = /GMT([+-]\d{2}:\d{2})/.exec(parts.timeZoneName ?? '')?.[1] ?? 'Z';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset === '+00:00' ? 'Z' : offset}`;
}

/** The zone's short name for the locale ("GMT+8"), shown beside every axis and timestamp. */
export function timeZoneLabel(locale: string, timeZone: string, at: Date = new Date()): string {
  return `${timeZone} (${offsetName(locale, timeZone, at)})`;
}

/** A duration in milliseconds, with the locale's unit names ("1.5 秒", "250 ms"). */
export function formatDurationMs(locale: string, ms: number): string {
  if (ms < 1000) {
    return new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: 'millisecond',
      maximumFractionDigits: 1,
    }).format(ms);
  }
  if (ms < 60_000) {
    return new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: 'second',
      maximumFractionDigits: 2,
    }).format(ms / 1000);
  }
  if (ms < 3_600_000) {
    return new Intl.NumberFormat(locale, {
      style: 'unit',
      unit: 'minute',
      maximumFractionDigits: 1,
    }).format(ms / 60_000);
  }
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: 'hour',
    maximumFractionDigits: 1,
  }).format(ms / 3_600_000);
}
