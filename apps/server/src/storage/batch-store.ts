import type { NormalizedBatch } from './normalized-batch';
import { markLateWindows, SqlRunner } from './fleet-rollups';
import { rollupTable, Series, SERIES } from './series';

export type { SqlRunner } from './fleet-rollups';

export interface StoredBatch {
  agentId: string;
  batch: NormalizedBatch;
}

type Row = unknown[];

/**
 * Rows of one series for a set of batches (agent_id, window_start, then rawColumns). Array
 * columns are array literals for the unnest parameters (viaText) or arrays for binary COPY.
 */
function rowsOf(series: string, items: StoredBatch[], arrays: 'text' | 'array' = 'text'): Row[] {
  const rows: Row[] = [];
  for (const { agentId: a, batch: b } of items) {
    const ws = b.windowStart;
    switch (series) {
      case 'traffic':
        for (const t of b.traffic)
          rows.push([a, ws, t.iface, t.direction, t.family, t.protocol, t.packets, t.bytes]);
        break;
      case 'rates':
        for (const r of b.rates)
          rows.push([a, ws, r.iface, r.direction, r.avgPps, r.peakPps, r.avgBps, r.peakBps]);
        break;
      case 'ports':
        for (const p of b.ports)
          rows.push([a, ws, p.port, p.protocol, p.packets, p.bytes, p.connections, p.abnormal]);
        break;
      case 'talkers':
        for (const t of b.talkers) rows.push([a, ws, t.src, t.dst, t.protocol, t.packets, t.bytes]);
        break;
      case 'drops':
        for (const d of b.drops) rows.push([a, ws, d.reason, d.count]);
        break;
      case 'abnormal':
        for (const x of b.abnormal)
          rows.push([a, ws, x.peer, x.port, x.protocol, x.direction, x.connections]);
        break;
      case 'durations': {
        const d = b.connections.durations;
        if (d && arrays === 'array') rows.push([a, ws, d.boundsMs, d.counts, d.sumMs]);
        else if (d)
          rows.push([a, ws, `{${d.boundsMs.join(',')}}`, `{${d.counts.join(',')}}`, d.sumMs]);
        break;
      }
      case 'windows': {
        const c = b.connections;
        const h = b.health;
        rows.push([
          a,
          ws,
          b.sequence,
          b.windowEnd,
          b.flowsSampled,
          c.openedClient,
          c.openedServer,
          c.failed,
          c.closed,
          c.active,
          c.peakOpenedPerSecond,
          c.retransmits,
          c.durationSumMs,
          h.cpuPercent,
          h.rssBytes,
          h.bpfRunTimeNs,
          h.bpfRunCount,
          h.spoolDepth,
          h.flowTableFull,
          h.recordsDropped,
        ]);
        break;
      }
      default:
        throw new Error(`no row mapping for series ${series}`);
    }
  }
  return rows;
}

/** The 1 min or 1 h upsert of the rows of `source` (a CTE or table with the raw columns). */
export function rollupInsert(s: Series, resolution: '1m' | '1h', source: string): string {
  const t = rollupTable(s, resolution);
  const unit = resolution === '1m' ? 'minute' : 'hour';
  const keys = ['agent_id', 'bucket', ...s.dims];
  const cols = [...keys, ...s.rollup.map((c) => c.name)];
  const select = [
    'agent_id',
    `date_trunc('${unit}', window_start, 'UTC')`,
    ...s.dims,
    ...s.rollup.map((c) => c.agg),
  ];
  const merge = s.rollup.map((c) => {
    if (c.merge === 'sum') return `${c.name} = t.${c.name} + EXCLUDED.${c.name}`;
    if (c.merge === 'array_sum') return `${c.name} = tw_array_add(t.${c.name}, EXCLUDED.${c.name})`;
    if (c.merge === 'max') return `${c.name} = GREATEST(t.${c.name}, EXCLUDED.${c.name})`;
    return `${c.name} = t.${c.name} OR EXCLUDED.${c.name}`;
  });
  return `INSERT INTO ${t} AS t (${cols.join(', ')})
    SELECT ${select.join(', ')} FROM ${source}
    GROUP BY ${keys.map((_, i) => i + 1).join(', ')}
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${merge.join(', ')}`;
}

/** The multi-row unnest INSERT of one series' raw rows (RETURNING them for the rollups). */
export function rawInsertSql(s: Series, returning = false): string {
  const cols = ['agent_id', 'window_start', ...s.rawColumns.map((c) => c.name)];
  const types = ['uuid', 'timestamptz', ...s.rawColumns.map((c) => (c.viaText ? 'text' : c.type))];
  const unnest = types.map((t, i) => `$${i + 1}::${t}[]`).join(', ');
  const select = s.rawColumns.some((c) => c.viaText)
    ? [
        'agent_id',
        'window_start',
        ...s.rawColumns.map((c) => (c.viaText ? `${c.name}::${c.type}` : c.name)),
      ].join(', ')
    : '*';
  const from = select === '*' ? '' : ` AS u(${cols.join(', ')})`;
  const ret = returning ? ` RETURNING ${cols.join(', ')}` : '';
  return `INSERT INTO ${s.raw} (${cols.join(', ')})
    SELECT ${select} FROM unnest(${unnest})${from}${ret}`;
}

/**
 * One statement per series: the raw rows go in through a multi-row unnest,
 * and the same rows, grouped, are added to the 1 min and 1 h rollups in the
 * same statement (so in the same transaction).
 */
export function seriesInsertSql(s: Series): string {
  return `WITH raw AS (
    ${rawInsertSql(s, true)}
  ), m AS (
    ${rollupInsert(s, '1m', 'raw')}
  )
  ${rollupInsert(s, '1h', 'raw')}`;
}

/**
 * The batches' rows per series (agent_id, window_start, then rawColumns), array columns as
 * arrays: for the write-path harness's binary COPY variants (tools/fleet-sim/src/write-path.ts).
 */
export function rawRecordsOf(items: StoredBatch[]): { series: Series; rows: Row[] }[] {
  return SERIES.map((s) => ({ series: s, rows: rowsOf(s.name, items, 'array') })).filter(
    (t) => t.rows.length > 0,
  );
}

const SQL = new Map(SERIES.map((s) => [s.name, seriesInsertSql(s)]));

/** The raw columns of one series' rows, as the statement's parameters. */
function columnsOf(s: Series, rows: Row[]): unknown[][] {
  const width = 2 + s.rawColumns.length;
  const columns: unknown[][] = Array.from({ length: width }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < width; c++) columns[c][r] = rows[r][c];
  }
  return columns;
}

/** The batches' raw rows per raw table, as the writer sends them (the COPY baseline loads these). */
export function rawRowsOf(
  items: StoredBatch[],
): { table: string; columns: string[]; values: unknown[][] }[] {
  return SERIES.map((s) => ({
    table: s.raw,
    columns: ['agent_id', 'window_start', ...s.rawColumns.map((c) => c.name)],
    values: columnsOf(s, rowsOf(s.name, items)),
  })).filter((t) => t.values[0].length > 0);
}

/**
 * Stores the batches' rows in every raw table and rollup, and marks the buckets of late
 * windows the fleet rollups already summed (fleet-rollups.ts); returns the number of raw rows.
 */
export async function storeBatches(runner: SqlRunner, items: StoredBatch[]): Promise<number> {
  let total = 0;
  for (const s of SERIES) {
    const rows = rowsOf(s.name, items);
    if (rows.length === 0) continue;
    await runner.query(SQL.get(s.name) as string, columnsOf(s, rows));
    total += rows.length;
  }
  await markLateWindows(
    runner,
    [...new Set(items.map((i) => i.batch.windowStart.getTime()))].map((t) => new Date(t)),
  );
  return total;
}
