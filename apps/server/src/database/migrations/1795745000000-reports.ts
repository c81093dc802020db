import { MigrationInterface, QueryRunner } from 'typeorm';

// Compliance reports: the daily schedules the system administrator sets, and
// every scheduled report kept byte for byte with its digest (also recorded in
// the audit trail, which is what a stored report is verified against).
export class Reports1795745000000 implements MigrationInterface {
  name = 'Reports1795745000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE report_schedules (
      name text PRIMARY KEY,
      agent_id uuid,
      labels text,
      formats text[] NOT NULL,
      lang text NOT NULL,
      hour smallint NOT NULL DEFAULT 1,
      utc_offset_minutes smallint NOT NULL DEFAULT 0,
      enabled boolean NOT NULL DEFAULT true,
      updated_by text,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (agent_id IS NULL OR labels IS NULL),
      CHECK (hour BETWEEN 0 AND 23),
      CHECK (utc_offset_minutes BETWEEN -720 AND 840)
    )`);
    await q.query(`CREATE TABLE reports (
      id bigserial PRIMARY KEY,
      schedule_name text REFERENCES report_schedules (name) ON DELETE SET NULL,
      period_from timestamptz NOT NULL,
      period_to timestamptz NOT NULL,
      scope jsonb NOT NULL,
      format text NOT NULL,
      lang text NOT NULL,
      content_type text NOT NULL,
      content bytea NOT NULL,
      digest_alg text NOT NULL,
      digest text NOT NULL,
      generated_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK (format IN ('json', 'csv', 'pdf'))
    )`);
    // One report per schedule, day, format and language, even with several servers ticking.
    await q.query(`CREATE UNIQUE INDEX reports_scheduled ON reports (schedule_name, period_from, format, lang)
                   WHERE schedule_name IS NOT NULL`);
    await q.query(`CREATE INDEX reports_created ON reports (created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reports`);
    await q.query(`DROP TABLE report_schedules`);
  }
}
