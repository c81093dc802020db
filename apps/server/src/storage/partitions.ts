// Partition naming and bounds (UTC). Pure functions; the DDL runs in
// partition-maintenance.service.ts.

export type PartitionUnit = 'day' | 'month';

export function periodStart(t: Date, unit: PartitionUnit): Date {
  return unit === 'day'
    ? new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()))
    : new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1));
}

export function nextPeriod(start: Date, unit: PartitionUnit): Date {
  return unit === 'day'
    ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1))
    : new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

export function partitionName(table: string, start: Date, unit: PartitionUnit): string {
  const y = start.getUTCFullYear();
  const m = String(start.getUTCMonth() + 1).padStart(2, '0');
  const d = String(start.getUTCDate()).padStart(2, '0');
  return unit === 'day' ? `${table}_p${y}${m}${d}` : `${table}_p${y}${m}`;
}

/** Start of the period a partition name covers, or null when the name is not ours. */
export function parsePartitionName(
  table: string,
  name: string,
): { start: Date; unit: PartitionUnit } | null {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})?$`).exec(name);
  if (!m) return null;
  const start = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, m[3] ? Number(m[3]) : 1));
  return { start, unit: m[3] ? 'day' : 'month' };
}

/** Period starts overlapping [from, to]. */
export function periodsBetween(from: Date, to: Date, unit: PartitionUnit): Date[] {
  const out: Date[] = [];
  for (let p = periodStart(from, unit); p.getTime() <= to.getTime(); p = nextPeriod(p, unit)) {
    out.push(p);
  }
  return out;
}

/**
 * Rollup rows are updated in place by every flush that adds to their bucket:
 * free space left on each page lets PostgreSQL keep the new row version on the
 * same page without new index entries (a HOT update). Raw rows are only inserted.
 */
export const ROLLUP_FILLFACTOR = 70;

/** The DDL of one partition of `table` for the period starting at `start`. */
export function partitionDdl(
  table: string,
  start: Date,
  unit: PartitionUnit,
  rollup: boolean,
): string {
  const storage = rollup ? ` WITH (fillfactor = ${ROLLUP_FILLFACTOR})` : '';
  return `CREATE TABLE IF NOT EXISTS ${partitionName(table, start, unit)} PARTITION OF ${table}
    FOR VALUES FROM ('${start.toISOString()}') TO ('${nextPeriod(start, unit).toISOString()}')${storage}`;
}
