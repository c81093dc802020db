import { MigrationInterface, QueryRunner } from 'typeorm';

// Kept reports are compliance evidence: the retention purge (REPORT_RETENTION_DAYS,
// at least 180) removes old ones, and the database itself refuses to delete a
// report made less than 180 days ago (the audit trail's minimum), whoever asks
// and whatever the server's clock says. TRUNCATE would skip that check: refused.
export class ReportRetention1795780000000 implements MigrationInterface {
  name = 'ReportRetention1795780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE FUNCTION reports_refuse_young() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '180 days' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'reports younger than 180 days are kept: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'kept reports are compliance evidence; the retention purge removes them after REPORT_RETENTION_DAYS (at least 180)';
      END $$`);
    await q.query(`CREATE TRIGGER reports_keep_young BEFORE DELETE ON reports
      FOR EACH ROW EXECUTE FUNCTION reports_refuse_young()`);
    await q.query(`CREATE TRIGGER reports_no_truncate BEFORE TRUNCATE ON reports
      FOR EACH STATEMENT EXECUTE FUNCTION reports_refuse_young()`);
    // ALWAYS: a replica-mode session (session_replication_role = replica) still fires them.
    await q.query(`ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_keep_young`);
    await q.query(`ALTER TABLE reports ENABLE ALWAYS TRIGGER reports_no_truncate`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER reports_no_truncate ON reports`);
    await q.query(`DROP TRIGGER reports_keep_young ON reports`);
    await q.query(`DROP FUNCTION reports_refuse_young()`);
  }
}
