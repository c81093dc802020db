// Every statement that reads the time series: the per-agent tables (raw, 1 min, 1 h) and,
// for fleet-wide totals and series, the fleet rollups (fleet-rollups.ts). Callers name
// dimensions, filters and sort keys; only columns of the series (and the metric names they
// declared) reach the SQL.
import { DataSource, EntityManager } from 'typeorm';
import {
  FLEET_TIERS,
  FleetResolution,
  fleetTable,
  hasFleetRollups,
  Resolution,
  RESOLUTIONS,
  Series,
  tableFor,
} from './series';

/** One (resolution, range) piece of a query: rows whose window or bucket starts in [from, to). */
export interface Segment {
  resolution: Resolution;
  from: Date;
  to: Date;
}

/** Positional parameters collected while a statement is assembled. */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

export interface Metric {
  name: string;
  /** Aggregate over raw rows. */
  raw: string;
  /** Aggregate over rollup rows (per-agent and fleet alike). */
  rollup: string;
  /** How the per-segment values combine (tw_sum_array: element-wise sum of counter arrays). */
  outer: 'sum' | 'max' | 'bool_or' | 'tw_sum_array';
  /**
   * Set when raw and rollup rows hold the metric in one column that `outer` aggregates over
   * rows of either kind (a sum of sums is the sum): the parts then need no aggregation of
   * their own, and the statement aggregates their rows once (see buildSegmentQuery).
   */
  column?: string;
}

export const summed = (name: string, rollupCol = name, rawCol = name): Metric => ({
  name,
  raw: `sum(${rawCol})`,
  rollup: `sum(${rollupCol})`,
  outer: 'sum',
  ...(rawCol === rollupCol ? { column: rawCol } : {}),
});

export const maxed = (name: string, rollupCol = name, rawCol = name): Metric => ({
  name,
  raw: `max(${rawCol})`,
  rollup: `max(${rollupCol})`,
  outer: 'max',
  ...(rawCol === rollupCol ? { column: rawCol } : {}),
});

export interface SegmentQuery {
  series: Series;
  segments: Segment[];
  /** Dimension columns of the series (or agent_id) to group by. */
  groupBy: string[];
  /** Group by the row's time too (window_start or bucket), returned as `t`. */
  byTime?: boolean;
  metrics: Metric[];
  agentIds: string[] | null;
  /** Equality filters on dimension columns of the series; undefined values are left out. */
  filters: Record<string, unknown>;
  /** Sort keys: a metric's name or a grouping column; the default is the grouping keys. */
  orderBy?: { key: string; desc?: boolean }[];
  limit?: number;
}

/** Which buckets the fleet rollups hold, as of the query's snapshot. */
export interface FleetCoverage {
  summedTo: Record<Resolution, number | null>;
  /** Marked (late-written) buckets before summedTo, per resolution: read from the hosts' rows. */
  dirty: Record<Resolution, number[]>;
}

function checkColumns(q: SegmentQuery): void {
  const dims = new Set(q.series.dims);
  for (const g of q.groupBy)
    if (!dims.has(g) && g !== 'agent_id')
      throw new Error(`${g} is not a dimension of series ${q.series.name}`);
  for (const k of Object.keys(q.filters))
    if (!dims.has(k)) throw new Error(`${k} is not a dimension of series ${q.series.name}`);
  const keys = new Set([...(q.byTime ? ['t'] : []), ...q.groupBy, ...q.metrics.map((m) => m.name)]);
  for (const o of q.orderBy ?? [])
    if (!keys.has(o.key)) throw new Error(`cannot sort by ${o.key}: not grouped or aggregated`);
  for (const m of q.metrics)
    if (!/^[a-z_][a-z_0-9]*$/.test(m.name)) throw new Error(`bad metric name ${m.name}`);
}

/** Whether the fleet rollups can answer (a part of) the query. */
export function fleetEligible(q: SegmentQuery): boolean {
  return q.agentIds === null && hasFleetRollups(q.series) && !q.groupBy.includes('agent_id');
}

interface Part {
  table: string;
  timeCol: string;
  /** Rollup aggregates (per-agent rollups and every fleet table) or raw ones. */
  rawRows: boolean;
  from: number;
  to: number;
  /** Only these buckets of [from, to) … */
  only?: number[];
  /** … or all but these. */
  except?: number[];
}

/**
 * The parts a segment is read from. Per host or label scope: the segment's own table. Fleet
 * wide: the summed, unmarked buckets from the fleet table (when the query is a total, whole
 * blocks from its coarser tiers: FLEET_TIERS), the open and marked buckets from the
 * per-agent table.
 */
function partsOf(q: SegmentQuery, seg: Segment, cov: FleetCoverage | null): Part[] {
  const r = seg.resolution;
  const own = (from: number, to: number, only?: number[]): Part => ({
    table: tableFor(q.series, r),
    timeCol: r === 'raw' ? 'window_start' : 'bucket',
    rawRows: r === 'raw',
    from,
    to,
    only,
  });
  const f = seg.from.getTime();
  const t = seg.to.getTime();
  if (!cov) return [own(f, t)];
  const S = cov.summedTo[r] ?? -Infinity;
  const end = Math.min(t, S);
  const dirty = cov.dirty[r].filter((b) => b >= f && b < end);
  const parts: Part[] = [];
  if (S < t) parts.push(own(Math.max(f, S), t));
  if (dirty.length) parts.push(own(f, end, dirty));
  if (f >= end) return parts;
  const fleet = (res: FleetResolution, from: number, to: number, except: number[]): Part => ({
    table: fleetTable(q.series, res),
    timeCol: 'bucket',
    rawRows: false,
    from,
    to,
    except: except.length ? except : undefined,
  });
  if (q.byTime) {
    parts.push(fleet(r, f, end, dirty));
    return parts;
  }
  // A total: whole blocks without a marked bucket from the coarsest tier that fits, the rest
  // (the edges and the marked blocks) from the next tier, and the remainder from `r`'s rows.
  const tiers = FLEET_TIERS[r];
  const split = (a: number, b: number, level: number): void => {
    const inside = dirty.filter((x) => x >= a && x < b);
    if (level === tiers.length) {
      parts.push(fleet(r, a, b, inside));
      return;
    }
    const { tier, start, end } = tiers[level];
    // The whole blocks inside [a, b): from the first block starting at or after a to the
    // start of the block holding b.
    const s0 = start(a);
    const d0 = s0 === a ? a : end(s0);
    const d1 = start(b);
    if (d0 >= d1) {
      split(a, b, level + 1);
      return;
    }
    const marked = [...new Set(inside.map((x) => start(x)))].filter((d) => d >= d0 && d < d1);
    parts.push(fleet(tier, d0, d1, marked));
    const rest: [number, number][] = [
      [a, d0],
      ...marked.map((d): [number, number] => [d, end(d)]),
      [d1, b],
    ];
    for (const [x, y] of rest) if (y > x) split(x, y, level + 1);
  };
  split(f, end, 0);
  return parts;
}

/**
 * One statement over several (resolution, range) segments: each part is aggregated in its
 * own table, then the partial results are combined. With `fleet` coverage (fleetEligible
 * queries only), summed buckets come from the fleet rollups.
 */
export function buildSegmentQuery(
  q: SegmentQuery,
  fleet: FleetCoverage | null = null,
): { sql: string; params: unknown[] } {
  checkColumns(q);
  if (fleet && !fleetEligible(q)) throw new Error('the fleet rollups cannot answer this query');
  const p = new Params();
  const agents = q.agentIds ? p.add(q.agentIds) : null;
  const filterSql = Object.entries(q.filters)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` AND ${k} = ${p.add(v)}`)
    .join('');
  const keys = [...(q.byTime ? ['t'] : []), ...q.groupBy];
  const parts = q.segments.flatMap((seg) => partsOf(q, seg, fleet));
  // One aggregation over every part's rows when each metric allows it: a part aggregated on
  // its own yields a row per key, and a fleet-wide talkers total has many keys in each of its
  // ~15 parts, so the second aggregation over those rows cost as much as the first.
  const flat = parts.length > 1 && q.metrics.every((m) => m.column !== undefined);
  const selects = parts.map((part) => {
    const time = part.timeCol;
    const select = [
      ...(q.byTime ? [`${time} AS t`] : []),
      ...q.groupBy,
      ...q.metrics.map((m) => `${flat ? m.column : part.rawRows ? m.raw : m.rollup} AS ${m.name}`),
    ];
    const fromTo = `${time} >= ${p.add(new Date(part.from))} AND ${time} < ${p.add(new Date(part.to))}`;
    const only = part.only
      ? ` AND ${time} = ANY(${p.add(part.only.map((x) => new Date(x)))}::timestamptz[])`
      : '';
    const except = part.except
      ? ` AND ${time} <> ALL(${p.add(part.except.map((x) => new Date(x)))}::timestamptz[])`
      : '';
    const where =
      fromTo +
      only +
      except +
      (agents && !part.table.includes('_fleet_') ? ` AND agent_id = ANY(${agents}::uuid[])` : '') +
      filterSql;
    const group = keys.length && !flat ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : '';
    return `SELECT ${select.join(', ')} FROM ${part.table} WHERE ${where}${group}`;
  });
  const outer = [...keys, ...q.metrics.map((m) => `${m.outer}(${m.name}) AS ${m.name}`)];
  const group = keys.length ? ` GROUP BY ${keys.join(', ')}` : '';
  const order = q.orderBy
    ? ` ORDER BY ${q.orderBy.map((o) => `${o.key}${o.desc ? ' DESC' : ''}`).join(', ')}`
    : keys.length
      ? ` ORDER BY ${keys.join(', ')}`
      : '';
  const limit = q.limit ? ` LIMIT ${p.add(q.limit)}` : '';
  const sql = `SELECT ${outer.join(', ')} FROM (${selects.join(' UNION ALL ')}) s${group}${order}${limit}`;
  return { sql, params: p.values };
}

/** The fleet rollups' state and the marked buckets in [from, to), in the caller's snapshot. */
export const FLEET_COVERAGE_SQL = `SELECT s.resolution, s.summed_to,
    coalesce((SELECT array_agg(DISTINCT d.bucket) FROM fleet_rollup_dirty d
               WHERE d.resolution = s.resolution AND d.bucket >= $1 AND d.bucket < $2), '{}') AS dirty
  FROM fleet_rollup_state s`;

type Runner = Pick<EntityManager, 'query'>;

export async function fleetCoverage(em: Runner, from: Date, to: Date): Promise<FleetCoverage> {
  const rows: { resolution: Resolution; summed_to: Date | null; dirty: (Date | string)[] }[] =
    await em.query(FLEET_COVERAGE_SQL, [from, to]);
  const cov: FleetCoverage = {
    summedTo: { raw: null, '1m': null, '1h': null },
    dirty: { raw: [], '1m': [], '1h': [] },
  };
  for (const r of rows) {
    if (!RESOLUTIONS.includes(r.resolution)) continue;
    cov.summedTo[r.resolution] = r.summed_to ? new Date(r.summed_to).getTime() : null;
    cov.dirty[r.resolution] = r.dirty.map((d) => new Date(d).getTime());
  }
  return cov;
}

/**
 * Runs a series query. Fleet-wide ones read the coverage and their rows in one REPEATABLE
 * READ snapshot, so that a derivation or a late window committing in between cannot make
 * the fleet and per-agent parts disagree.
 */
export async function querySeries<Row>(
  ds: Pick<DataSource, 'query' | 'transaction'>,
  q: SegmentQuery,
): Promise<Row[]> {
  if (q.segments.length === 0 || (q.agentIds && q.agentIds.length === 0)) return [];
  if (!fleetEligible(q)) {
    const { sql, params } = buildSegmentQuery(q);
    return ds.query(sql, params);
  }
  const from = new Date(Math.min(...q.segments.map((s) => s.from.getTime())));
  const to = new Date(Math.max(...q.segments.map((s) => s.to.getTime())));
  return ds.transaction('REPEATABLE READ', async (em) => {
    const { sql, params } = buildSegmentQuery(q, await fleetCoverage(em, from, to));
    return em.query(sql, params);
  });
}
