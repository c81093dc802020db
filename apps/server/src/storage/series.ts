// The time-series tables: one raw table per kind of record, rolled up at
// 1 minute and 1 hour. This spec drives the ingest INSERTs, the rollup
// upserts and the partition maintenance; the DDL lives in the migrations.

export type Resolution = 'raw' | '1m' | '1h';
export const RESOLUTIONS: readonly Resolution[] = ['raw', '1m', '1h'];

export interface RawColumn {
  name: string;
  /** PostgreSQL type, used for the unnest casts. */
  type: string;
  /**
   * Set for array columns: unnest flattens arrays of arrays, so these travel
   * as array literals in a text[] parameter and are cast back per row.
   */
  viaText?: boolean;
}

export interface RollupColumn {
  name: string;
  type: string;
  /** Aggregate over the raw rows of one bucket. */
  agg: string;
  /** How a new delta merges into an existing bucket row (array_sum: element-wise). */
  merge: 'sum' | 'max' | 'or' | 'array_sum';
}

export interface Series {
  name: string;
  /** Raw table; every raw table also has agent_id uuid and window_start timestamptz. */
  raw: string;
  rawColumns: RawColumn[];
  /** Columns that identify a rollup row besides agent_id and bucket. */
  dims: string[];
  rollup: RollupColumn[];
}

const sum = (name: string, col = name, type = 'bigint'): RollupColumn => ({
  name,
  type,
  agg: `sum(${col})`,
  merge: 'sum',
});
const max = (name: string, col = name, type = 'bigint'): RollupColumn => ({
  name,
  type,
  agg: `max(${col})`,
  merge: 'max',
});
const D = 'double precision';

export const SERIES: Series[] = [
  {
    name: 'traffic',
    raw: 'traffic_raw',
    rawColumns: [
      { name: 'iface', type: 'text' },
      { name: 'direction', type: 'smallint' },
      { name: 'family', type: 'smallint' },
      { name: 'protocol', type: 'smallint' },
      { name: 'packets', type: 'bigint' },
      { name: 'bytes', type: 'bigint' },
    ],
    dims: ['iface', 'direction', 'family', 'protocol'],
    rollup: [sum('packets'), sum('bytes')],
  },
  {
    name: 'rates',
    raw: 'rates_raw',
    rawColumns: [
      { name: 'iface', type: 'text' },
      { name: 'direction', type: 'smallint' },
      { name: 'avg_pps', type: 'double precision' },
      { name: 'peak_pps', type: 'double precision' },
      { name: 'avg_bps', type: 'double precision' },
      { name: 'peak_bps', type: 'double precision' },
    ],
    dims: ['iface', 'direction'],
    rollup: [max('peak_pps', 'peak_pps', D), max('peak_bps', 'peak_bps', D)],
  },
  {
    name: 'ports',
    raw: 'ports_raw',
    rawColumns: [
      { name: 'port', type: 'integer' },
      { name: 'protocol', type: 'smallint' },
      { name: 'packets', type: 'bigint' },
      { name: 'bytes', type: 'bigint' },
      { name: 'connections', type: 'bigint' },
      { name: 'abnormal', type: 'boolean' },
    ],
    dims: ['port', 'protocol'],
    rollup: [
      sum('packets'),
      sum('bytes'),
      sum('connections'),
      { name: 'abnormal', type: 'boolean', agg: 'bool_or(abnormal)', merge: 'or' },
    ],
  },
  {
    name: 'talkers',
    raw: 'talkers_raw',
    rawColumns: [
      { name: 'src', type: 'text' },
      { name: 'dst', type: 'text' },
      { name: 'protocol', type: 'smallint' },
      { name: 'packets', type: 'bigint' },
      { name: 'bytes', type: 'bigint' },
    ],
    dims: ['src', 'dst', 'protocol'],
    rollup: [sum('packets'), sum('bytes')],
  },
  {
    name: 'drops',
    raw: 'drops_raw',
    rawColumns: [
      { name: 'reason', type: 'text' },
      { name: 'count', type: 'bigint' },
    ],
    dims: ['reason'],
    rollup: [sum('count')],
  },
  {
    name: 'abnormal',
    raw: 'abnormal_raw',
    rawColumns: [
      { name: 'peer', type: 'text' },
      { name: 'port', type: 'integer' },
      { name: 'protocol', type: 'smallint' },
      { name: 'direction', type: 'smallint' },
      { name: 'connections', type: 'bigint' },
    ],
    dims: ['peer', 'port', 'protocol', 'direction'],
    rollup: [sum('connections')],
  },
  {
    // One row per batch: the batch ledger, its connection statistics and the agent's health.
    name: 'windows',
    raw: 'windows_raw',
    rawColumns: [
      { name: 'sequence', type: 'bigint' },
      { name: 'window_end', type: 'timestamptz' },
      { name: 'flows_sampled', type: 'boolean' },
      { name: 'opened_client', type: 'bigint' },
      { name: 'opened_server', type: 'bigint' },
      { name: 'failed', type: 'bigint' },
      { name: 'closed', type: 'bigint' },
      { name: 'active', type: 'bigint' },
      { name: 'peak_opened_per_second', type: 'double precision' },
      { name: 'retransmits', type: 'bigint' },
      { name: 'duration_sum_ms', type: 'double precision' },
      { name: 'cpu_percent', type: 'double precision' },
      { name: 'rss_bytes', type: 'bigint' },
      { name: 'bpf_run_time_ns', type: 'bigint' },
      { name: 'bpf_run_count', type: 'bigint' },
      { name: 'spool_depth', type: 'bigint' },
      { name: 'flow_table_full', type: 'bigint' },
      { name: 'records_dropped', type: 'bigint' },
    ],
    dims: [],
    rollup: [
      { name: 'windows', type: 'bigint', agg: 'count(*)', merge: 'sum' },
      {
        name: 'milliseconds',
        type: 'bigint',
        agg: 'sum((extract(epoch from window_end - window_start) * 1000)::bigint)',
        merge: 'sum',
      },
      sum('opened_client'),
      sum('opened_server'),
      sum('failed'),
      sum('closed'),
      sum('active_sum', 'active'),
      max('active_max', 'active'),
      max('peak_opened_per_second', 'peak_opened_per_second', D),
      sum('retransmits'),
      sum('duration_sum_ms', 'duration_sum_ms', D),
      max('cpu_max', 'cpu_percent', D),
      sum('cpu_sum', 'cpu_percent', D),
      max('rss_max', 'rss_bytes'),
      sum('bpf_run_time_ns'),
      sum('bpf_run_count'),
      sum('flow_table_full'),
      sum('records_dropped'),
    ],
  },
  {
    // Connection-duration histograms, one per window that carried one. The
    // bounds are a dimension: only histograms with identical bounds are added
    // (element-wise), so different bucket layouts stay separate rows.
    name: 'durations',
    raw: 'durations_raw',
    rawColumns: [
      { name: 'bounds', type: 'double precision[]', viaText: true },
      { name: 'counts', type: 'bigint[]', viaText: true },
      { name: 'sum_ms', type: 'double precision' },
    ],
    dims: ['bounds'],
    rollup: [
      { name: 'windows', type: 'bigint', agg: 'count(*)', merge: 'sum' },
      { name: 'counts', type: 'bigint[]', agg: 'tw_sum_array(counts)', merge: 'array_sum' },
      sum('sum_ms', 'sum_ms', D),
    ],
  },
];

export function seriesByName(name: string): Series {
  const s = SERIES.find((x) => x.name === name);
  if (!s) throw new Error(`unknown series ${name}`);
  return s;
}

export function rollupTable(series: Series, resolution: '1m' | '1h'): string {
  return `${series.name}_${resolution}`;
}

export function tableFor(series: Series, resolution: Resolution): string {
  return resolution === 'raw' ? series.raw : rollupTable(series, resolution);
}

/** Partition interval per resolution: daily for raw and 1 min, monthly for 1 h. */
export function partitionUnit(resolution: Resolution): 'day' | 'month' {
  return resolution === '1h' ? 'month' : 'day';
}

// Fleet rollups: the same series summed over every host (no agent_id), derived from closed
// buckets of the per-agent tables by FleetRollupService (fleet-rollups.ts), for the views
// that read the whole fleet. 'raw' sums the windows that start at the same instant (agents
// align their windows to the wall clock); the coarser tiers ('10m', '6h', '1d', '7d') sum the
// fleet's own 1 min or 1 h rows of one block (UTC), for totals over whole blocks.
export type FleetTier = '10m' | '6h' | '1d' | '7d';
export type FleetResolution = Resolution | FleetTier;
export const FLEET_RESOLUTIONS: readonly FleetResolution[] = [
  'raw',
  '1m',
  '10m',
  '1h',
  '6h',
  '1d',
  '7d',
];

/**
 * A coarser tier: blocks that tile time, each within one partition of its source (a day for
 * 1 min rows, a UTC month for 1 h rows), so that retention drops a block with its rows.
 */
export interface FleetTierSpec {
  tier: FleetTier;
  /** Start of the block holding instant t (ms). */
  start(t: number): number;
  /** End of the block that starts at s. */
  end(s: number): number;
  /** SQL: the start of the block holding a row's `bucket`. */
  sql: string;
}

const EPOCH = "timestamptz '1970-01-01 00:00:00+00'";
const fixed = (tier: FleetTier, spanMs: number): FleetTierSpec => ({
  tier,
  start: (t) => Math.floor(t / spanMs) * spanMs,
  end: (s) => s + spanMs,
  sql: `date_bin('${spanMs / 1000} seconds', bucket, ${EPOCH})`,
});
const DAY = 86_400_000;
/** Days 1–7, 8–14, 15–21, 22–28 and 29 to the end of each UTC month. */
const monthWeeks: FleetTierSpec = {
  tier: '7d',
  start: (t) => {
    const d = new Date(t);
    const k = Math.min(Math.floor((d.getUTCDate() - 1) / 7), 4);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1 + 7 * k);
  },
  end: (s) => {
    const d = new Date(s);
    return d.getUTCDate() < 29 ? s + 7 * DAY : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  },
  sql: `(date_trunc('month', bucket, 'UTC') + least((extract(day from bucket AT TIME ZONE 'UTC')::int - 1) / 7, 4) * interval '168 hours')`,
};

/**
 * The tiers summed from each resolution's fleet rows, coarsest first. A total reads whole
 * blocks from the coarsest tier that fits and the rest from the next one: a 30-day total sums
 * per key ~3 month-weeks, ≤ ~10 days, ≤ 2 × 3 six-hour blocks, ≤ 2 × 5 hours, ≤ 2 × 5
 * ten-minute blocks and ≤ 2 × 9 minutes, instead of ~29 days, ≤ 46 hours and ≤ 118 minutes
 * (talkers, whose keys do not collapse across hosts, read that many rows per key).
 */
export const FLEET_TIERS: Record<Resolution, readonly FleetTierSpec[]> = {
  raw: [],
  '1m': [fixed('10m', 600_000)],
  '1h': [monthWeeks, fixed('1d', DAY), fixed('6h', 6 * 3_600_000)],
};

/** The source resolution a fleet resolution follows (retention, partitioning, coverage). */
export function fleetSource(r: FleetResolution): Resolution {
  if (r === '10m') return '1m';
  if (r === '6h' || r === '1d' || r === '7d') return '1h';
  return r;
}
/** The series the dashboard reads fleet-wide: the ones with fleet rollups. */
export const FLEET_SERIES: readonly string[] = ['traffic', 'ports', 'talkers'];

export function hasFleetRollups(series: Series): boolean {
  return FLEET_SERIES.includes(series.name);
}

export function fleetTable(series: Series, resolution: FleetResolution): string {
  return `${series.name}_fleet_${resolution}`;
}

export interface PartitionedTable {
  table: string;
  resolution: Resolution;
  /** Rows updated by later flushes (the per-agent rollups): partitions get free space for HOT. */
  updatedInPlace: boolean;
}

/**
 * Every partitioned table with its resolution (the retention it follows): a fleet table is
 * kept as long as the per-agent table it is derived from; a tier as long as its source.
 */
export function partitionedTables(): PartitionedTable[] {
  const out: PartitionedTable[] = [];
  for (const s of SERIES) {
    out.push({ table: s.raw, resolution: 'raw', updatedInPlace: false });
    out.push({ table: rollupTable(s, '1m'), resolution: '1m', updatedInPlace: true });
    out.push({ table: rollupTable(s, '1h'), resolution: '1h', updatedInPlace: true });
  }
  // Fleet rows are inserted (and deleted when recomputed), never updated in place.
  for (const s of SERIES.filter(hasFleetRollups)) {
    for (const r of FLEET_RESOLUTIONS)
      out.push({
        table: fleetTable(s, r),
        resolution: fleetSource(r),
        updatedInPlace: false,
      });
  }
  // The detectors' per-window scan figures (not rolled up): kept as long as the raw windows.
  out.push({ table: 'scan_windows', resolution: 'raw', updatedInPlace: false });
  return out;
}
