import type { NormalizedBatch } from '../ingest/batch-validation';
import { RollupColumn, rollupTable, Series, SERIES } from './series';

/** Something that runs SQL inside the caller's transaction. */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface StoredBatch {
  agentId: string;
  batch: NormalizedBatch;
}

/** agent_id, window_start (ms), then the series' rawColumns as JS values. */
type Row = unknown[];
/** An exact integer: a number while it stays below 2^53, a bigint past it. */
type Int = number | bigint;

/** Rows of one series for a set of batches. */
function rowsOf(series: string, items: StoredBatch[]): Row[] {
  const rows: Row[] = [];
  for (const { agentId: a, batch: b } of items) {
    const ws = b.windowStart.getTime();
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
        if (d) rows.push([a, ws, d.boundsMs, d.counts, d.sumMs]);
        break;
      }
      case 'windows': {
        const c = b.connections;
        const h = b.health;
        rows.push([
          a,
          ws,
          b.sequence,
          b.windowEnd.getTime(),
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

/** a + b without losing a unit past 2^53. */
export function addExact(a: Int, b: Int): Int {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    if (Number.isSafeInteger(s)) return s;
  }
  return BigInt(a) + BigInt(b);
}

/** Element-wise sum, the shorter array padded with zeros (tw_array_add). */
function addArrays(a: Int[], b: Int[]): Int[] {
  const out: Int[] = new Array<Int>(Math.max(a.length, b.length));
  for (let i = 0; i < out.length; i++) out[i] = addExact(a[i] ?? 0, b[i] ?? 0);
  return out;
}

const isArrayType = (t: string) => t.endsWith('[]');
/** Array values travel as array literals in a text[] parameter (unnest flattens nested arrays). */
const literal = (v: unknown[]) => `{${v.map(String).join(',')}}`;

function mergeFn(c: RollupColumn): (acc: unknown, v: unknown) => unknown {
  switch (c.merge) {
    case 'sum':
      return c.type === 'bigint'
        ? (acc, v) => addExact(acc as Int, v as Int)
        : (acc, v) => (acc as number) + (v as number);
    case 'max':
      return (acc, v) => ((v as number) > (acc as number) ? v : acc);
    case 'or':
      return (acc, v) => Boolean(acc) || Boolean(v);
    case 'array_sum':
      return (acc, v) => addArrays(acc as Int[], v as Int[]);
  }
}

interface Plan {
  series: Series;
  sql: string;
  rawColumns: string[];
  /** The raw table's columns for a set of rows, as the statement sends them. */
  rawParams(rows: Row[]): unknown[][];
  /** Column parameters of the statement for a set of rows. */
  params(rows: Row[]): unknown[][];
}

const upsertSet = (c: RollupColumn) => {
  if (c.merge === 'sum') return `${c.name} = t.${c.name} + EXCLUDED.${c.name}`;
  if (c.merge === 'array_sum') return `${c.name} = tw_array_add(t.${c.name}, EXCLUDED.${c.name})`;
  if (c.merge === 'max') return `${c.name} = GREATEST(t.${c.name}, EXCLUDED.${c.name})`;
  return `${c.name} = t.${c.name} OR EXCLUDED.${c.name}`;
};

/** INSERT … SELECT FROM unnest($first…) of the given columns, casting array columns back. */
function unnestInsert(
  table: string,
  cols: { name: string; type: string }[],
  first: number,
  tail = '',
): string {
  const names = cols.map((c) => c.name).join(', ');
  const args = cols
    .map((c, i) => `$${first + i}::${isArrayType(c.type) ? 'text' : c.type}[]`)
    .join(', ');
  const select = cols.map((c) => (isArrayType(c.type) ? `${c.name}::${c.type}` : c.name));
  return `INSERT INTO ${table} AS t (${names})
    SELECT ${select.join(', ')} FROM unnest(${args}) AS u(${names})${tail}`;
}

/**
 * One statement per series: the raw rows through one multi-row unnest, and
 * the flush's rollup deltas, already summed in the server to one row per
 * (agent, bucket, dimensions) and sorted, upserted into the 1 min and 1 h
 * tables in the same statement (so in the same transaction).
 */
function planFor(s: Series): Plan {
  const rawCols = [
    { name: 'agent_id', type: 'uuid' },
    { name: 'window_start', type: 'timestamptz' },
    ...s.rawColumns,
  ];
  const index = new Map(rawCols.map((c, i) => [c.name, i]));
  const at = (name: string) => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`${s.name}: no raw column ${name}`);
    return i;
  };
  const dimIdx = s.dims.map(at);
  const dimCols = s.dims.map((d) => rawCols[at(d)]);
  const endIdx = index.get('window_end');
  const sources = s.rollup.map((c): ((r: Row) => unknown) => {
    if (c.from === '*') return () => 1;
    if (c.from === 'window_ms') {
      if (endIdx === undefined) throw new Error(`${s.name}: window_ms needs window_end`);
      return (r) => (r[endIdx] as number) - (r[1] as number);
    }
    const i = at(c.from);
    return (r) => r[i];
  });
  const merges = s.rollup.map(mergeFn);
  const rollupCols = [
    { name: 'agent_id', type: 'uuid' },
    { name: 'bucket', type: 'timestamptz' },
    ...dimCols,
    ...s.rollup,
  ];
  const keys = ['agent_id', 'bucket', ...s.dims].join(', ');
  const upsert = (table: string, first: number) =>
    unnestInsert(
      table,
      rollupCols,
      first,
      `\n    ON CONFLICT (${keys}) DO UPDATE SET ${s.rollup.map(upsertSet).join(', ')}`,
    );
  const n = rawCols.length;
  const m = rollupCols.length;
  const sql = `WITH raw AS (
    ${unnestInsert(s.raw, rawCols, 1)}
  ), m AS (
    ${upsert(rollupTable(s, '1m'), n + 1)}
  )
  ${upsert(rollupTable(s, '1h'), n + m + 1)}`;

  const encode = (v: unknown, type: string) => {
    if (type === 'timestamptz') return new Date(v as number).toISOString();
    if (isArrayType(type)) return literal(v as unknown[]);
    return v;
  };
  const columns = (rows: Row[], cols: { type: string }[]) =>
    cols.map((c, j) => {
      const out = new Array<unknown>(rows.length);
      for (let r = 0; r < rows.length; r++) out[r] = encode(rows[r][j], c.type);
      return out;
    });
  /** One row per (agent, bucket, dims) of the rows, in key order. */
  const deltas = (rows: Row[], unitMs: number): Row[] => {
    const acc = new Map<string, Row>();
    for (const r of rows) {
      const bucket = Math.floor((r[1] as number) / unitMs) * unitMs;
      const dims = dimIdx.map((i) => r[i]);
      const key = `${r[0] as string}|${bucket}|${dims.map((d) => (Array.isArray(d) ? d.join(',') : String(d))).join('|')}`;
      const have = acc.get(key);
      if (!have) {
        acc.set(key, [r[0], bucket, ...dims, ...sources.map((f) => f(r))]);
      } else {
        const base = 2 + dims.length;
        for (let k = 0; k < sources.length; k++)
          have[base + k] = merges[k](have[base + k], sources[k](r));
      }
    }
    return [...acc.keys()].sort().map((k) => acc.get(k) as Row);
  };
  return {
    series: s,
    sql,
    rawColumns: rawCols.map((c) => c.name),
    rawParams: (rows) => columns(rows, rawCols),
    params: (rows) => [
      ...columns(rows, rawCols),
      ...columns(deltas(rows, 60_000), rollupCols),
      ...columns(deltas(rows, 3_600_000), rollupCols),
    ],
  };
}

const PLANS = SERIES.map(planFor);

/** The statement that stores one series (exported for its tests). */
export function seriesInsertSql(s: Series): string {
  return planFor(s).sql;
}

/** The batches' raw rows per raw table, as the writer sends them (the COPY baseline loads these). */
export function rawRowsOf(
  items: StoredBatch[],
): { table: string; columns: string[]; values: unknown[][] }[] {
  return PLANS.map((p) => ({
    table: p.series.raw,
    columns: p.rawColumns,
    values: p.rawParams(rowsOf(p.series.name, items)),
  })).filter((t) => t.values[0].length > 0);
}

/** Stores the batches' rows in every raw table and rollup; returns the number of raw rows. */
export async function storeBatches(runner: SqlRunner, items: StoredBatch[]): Promise<number> {
  let total = 0;
  for (const p of PLANS) {
    const rows = rowsOf(p.series.name, items);
    if (rows.length === 0) continue;
    await runner.query(p.sql, p.params(rows));
    total += rows.length;
  }
  return total;
}
