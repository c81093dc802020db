import { Series, tableFor } from '../storage/series';
import type { Segment } from './time-range';

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
  /** Aggregate over rollup rows. */
  rollup: string;
  /** How the per-segment values combine (tw_sum_array: element-wise sum of counter arrays). */
  outer: 'sum' | 'max' | 'bool_or' | 'tw_sum_array';
}

export const summed = (name: string, rollupCol = name, rawCol = name): Metric => ({
  name,
  raw: `sum(${rawCol})`,
  rollup: `sum(${rollupCol})`,
  outer: 'sum',
});

export const maxed = (name: string, rollupCol = name, rawCol = name): Metric => ({
  name,
  raw: `max(${rawCol})`,
  rollup: `max(${rollupCol})`,
  outer: 'max',
});

export interface SegmentQuery {
  series: Series;
  segments: Segment[];
  /** Dimension columns to group by (same name in raw and rollup tables). */
  groupBy: string[];
  /** Group by the row's time too (window_start or bucket), returned as `t`. */
  byTime?: boolean;
  metrics: Metric[];
  agentIds: string[] | null;
  /** Extra equality filters on dimension columns. */
  filters: Record<string, unknown>;
  orderBy?: string;
  limit?: number;
}

/**
 * One statement over several (resolution, range) segments: each segment is
 * aggregated in its own table, then the partial results are combined.
 */
export function buildSegmentQuery(q: SegmentQuery): { sql: string; params: unknown[] } {
  const p = new Params();
  const agents = q.agentIds ? p.add(q.agentIds) : null;
  const filterSql = Object.entries(q.filters)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` AND ${k} = ${p.add(v)}`)
    .join('');
  const keys = [...(q.byTime ? ['t'] : []), ...q.groupBy];
  const parts = q.segments.map((seg) => {
    const raw = seg.resolution === 'raw';
    const timeCol = raw ? 'window_start' : 'bucket';
    const select = [
      ...(q.byTime ? [`${timeCol} AS t`] : []),
      ...q.groupBy,
      ...q.metrics.map((m) => `${raw ? m.raw : m.rollup} AS ${m.name}`),
    ];
    const where =
      `${timeCol} >= ${p.add(seg.from)} AND ${timeCol} < ${p.add(seg.to)}` +
      (agents ? ` AND agent_id = ANY(${agents}::uuid[])` : '') +
      filterSql;
    const group = keys.length ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : '';
    return `SELECT ${select.join(', ')} FROM ${tableFor(q.series, seg.resolution)} WHERE ${where}${group}`;
  });
  const outer = [...keys, ...q.metrics.map((m) => `${m.outer}(${m.name}) AS ${m.name}`)];
  const group = keys.length ? ` GROUP BY ${keys.join(', ')}` : '';
  const order = q.orderBy
    ? ` ORDER BY ${q.orderBy}`
    : keys.length
      ? ` ORDER BY ${keys.join(', ')}`
      : '';
  const limit = q.limit ? ` LIMIT ${p.add(q.limit)}` : '';
  const sql = `SELECT ${outer.join(', ')} FROM (${parts.join(' UNION ALL ')}) s${group}${order}${limit}`;
  return { sql, params: p.values };
}
