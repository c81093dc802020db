// Human-friendly sizes and durations in config, environment and flags.

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** "64MiB", "10mb", "4096" or a number → bytes; undefined when not understood. */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = BYTE_UNITS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 0.001,
  '': 1,
  s: 1,
  m: 60,
  h: 3600,
};

/** "30s", "5m", "1h", "250ms", "10" or a number → seconds; undefined when not understood. */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * DURATION_UNITS[m[2]];
}
