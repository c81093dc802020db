import { MigrationInterface, QueryRunner } from 'typeorm';

// A kept report stays as it was made. The DELETE trigger trusts created_at, so
// whoever could UPDATE it could backdate a report and then delete it early,
// without a report.purged entry; content and digest are the evidence itself.
// Every UPDATE that changes a column is refused, with the columns named, except
// the one change the schema makes itself: schedule_name set to NULL when its
// schedule is deleted (ON DELETE SET NULL). Compared as jsonb without
// schedule_name, so a column added later is covered too.
export class ReportImmutable1795810000000 implements MigrationInterface {
  name = 'ReportImmutable1795810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION reports_refuse_update() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        changed text;
      BEGIN
        SELECT string_agg(n.key, ', ' ORDER BY n.key) INTO changed
          FROM jsonb_each(to_jsonb(NEW)) n
         WHERE n.value IS DISTINCT FROM to_jsonb(OLD) -> n.key
           AND NOT (n.key = 'schedule_name' AND NEW.schedule_name IS NULL);
        IF changed IS NULL THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'kept reports are not changed: UPDATE of % refused (report %)', changed, OLD.id
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'a kept report is compliance evidence as made; only the retention purge removes it, after REPORT_RETENTION_DAYS';
      END $$`);
    await q.query(`CREATE TRIGGER reports_keep_as_made BEFORE UPDATE ON reports
      FOR EACH ROW EXECUTE FUNCTION reports_refuse_update()`);
    // ALWAYS: a replica-mode session (session_replication_role = replica) still fires it.
    await q.query(`ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_keep_as_made`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER reports_keep_as_made ON reports`);
    await q.query(`DROP FUNCTION reports_refuse_update()`);
  }
}
