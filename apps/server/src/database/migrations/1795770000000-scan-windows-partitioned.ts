import { MigrationInterface, QueryRunner } from 'typeorm';

// scan_windows (the detectors' per-window scan figures) grew forever: it now
// is range-partitioned by day on window_start like the other raw tables, so
// the maintenance sweep drops whole days past RETENTION_RAW_DAYS. The rows are
// moved into one partition per day they cover; the partitions for today and
// the days ahead are made by the maintenance pass at start. The index on
// window_start alone goes: it served deletes by time, which are drops now.
// DDL written out here, not taken from storage/partitions.ts, so that this
// migration stays what it was when that code changes.

const DAY_MS = 86_400_000;

const partition = (day: Date) => {
  const name = `scan_windows_p${day.toISOString().slice(0, 10).replace(/-/g, '')}`;
  const to = new Date(day.getTime() + DAY_MS);
  return `CREATE TABLE ${name} PARTITION OF scan_windows
    FOR VALUES FROM ('${day.toISOString()}') TO ('${to.toISOString()}')`;
};

export class ScanWindowsPartitioned1795770000000 implements MigrationInterface {
  name = 'ScanWindowsPartitioned1795770000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scan_windows RENAME TO scan_windows_unpartitioned`);
    await q.query(
      `ALTER TABLE scan_windows_unpartitioned RENAME CONSTRAINT scan_windows_pkey TO scan_windows_unpartitioned_pkey`,
    );
    await q.query(`DROP INDEX scan_windows_start`);
    await q.query(`CREATE TABLE scan_windows (
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      scan jsonb NOT NULL,
      PRIMARY KEY (agent_id, window_start)
    ) PARTITION BY RANGE (window_start)`);
    const days: { day: Date }[] = await q.query(
      `SELECT DISTINCT date_trunc('day', window_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day
         FROM scan_windows_unpartitioned ORDER BY 1`,
    );
    for (const { day } of days) await q.query(partition(day));
    await q.query(`INSERT INTO scan_windows SELECT agent_id, window_start, window_end, scan
                     FROM scan_windows_unpartitioned`);
    await q.query(`DROP TABLE scan_windows_unpartitioned`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scan_windows RENAME TO scan_windows_partitioned`);
    await q.query(
      `ALTER TABLE scan_windows_partitioned RENAME CONSTRAINT scan_windows_pkey TO scan_windows_partitioned_pkey`,
    );
    await q.query(`CREATE TABLE scan_windows (
      agent_id uuid NOT NULL REFERENCES hosts (agent_id) ON DELETE CASCADE,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      scan jsonb NOT NULL,
      PRIMARY KEY (agent_id, window_start)
    )`);
    await q.query(`CREATE INDEX scan_windows_start ON scan_windows (window_start)`);
    await q.query(`INSERT INTO scan_windows SELECT agent_id, window_start, window_end, scan
                     FROM scan_windows_partitioned`);
    await q.query(`DROP TABLE scan_windows_partitioned`);
  }
}
