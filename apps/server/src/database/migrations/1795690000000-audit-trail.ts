import { MigrationInterface, QueryRunner } from 'typeorm';

// The audit trail (src/audit): one append-only, hash-chained table. UPDATE, DELETE
// and TRUNCATE are refused by triggers that fire ALWAYS (also under
// session_replication_role = replica) and revoked from PUBLIC; the application
// should run as a role that was only granted SELECT and INSERT (README, "The audit
// trail"). The one way entries leave is audit_purge(): a prefix of the chain, each
// entry older than 180 days, checked row by row by the trigger.
export class AuditTrail1795690000000 implements MigrationInterface {
  name = 'AuditTrail1795690000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE audit_entries (
      sequence bigint PRIMARY KEY CHECK (sequence > 0),
      time timestamptz NOT NULL,
      actor text,
      actor_role text,
      source text,
      action text NOT NULL,
      target text,
      outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
      reason text,
      request_id text,
      details text,
      hash_alg text NOT NULL CHECK (hash_alg IN ('sm3', 'sha256')),
      prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
      hash bytea NOT NULL CHECK (length(hash) = 32)
    )`);
    await q.query(`CREATE INDEX audit_entries_time ON audit_entries (time)`);
    await q.query(`CREATE INDEX audit_entries_actor ON audit_entries (actor, sequence)`);
    await q.query(`CREATE INDEX audit_entries_action ON audit_entries (action, sequence)`);
    await q.query(`CREATE INDEX audit_entries_target ON audit_entries (target, sequence)`);

    await q.query(`CREATE FUNCTION audit_entries_refuse() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE'
           AND current_setting('tidewatch.audit_purge', true) = 'on'
           AND OLD.time < now() - interval '180 days' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'entries leave only through audit_purge(), older than 180 days';
      END $$`);
    await q.query(`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
      FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()`);
    await q.query(`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
      FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse()`);
    await q.query(`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
      FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse()`);
    // ALWAYS: a replica-mode session (session_replication_role = replica) still fires them.
    for (const t of ['no_update', 'no_delete', 'no_truncate']) {
      await q.query(`ALTER TABLE audit_entries ENABLE ALWAYS TRIGGER audit_entries_${t}`);
    }

    // Deletes a prefix of the chain (never the head), for the retention purge; the
    // caller appends the tombstone in the same transaction. SECURITY DEFINER so that the
    // application role needs no DELETE privilege; the trigger still checks every row's age.
    await q.query(`CREATE FUNCTION audit_purge(through_sequence bigint)
      RETURNS TABLE (purged bigint, first_sequence bigint, last_sequence bigint, last_hash bytea)
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
      DECLARE
        head bigint;
        n bigint;
        lo bigint;
        hi record;
      BEGIN
        SELECT max(e.sequence) INTO head FROM public.audit_entries e;
        IF head IS NULL OR through_sequence >= head THEN
          RAISE EXCEPTION 'audit_purge: the head entry (%) is never purged', head;
        END IF;
        SELECT min(e.sequence) INTO lo FROM public.audit_entries e
         WHERE e.sequence <= through_sequence;
        SELECT e.sequence, e.hash INTO hi FROM public.audit_entries e
         WHERE e.sequence <= through_sequence ORDER BY e.sequence DESC LIMIT 1;
        IF NOT FOUND THEN
          RETURN QUERY SELECT 0::bigint, NULL::bigint, NULL::bigint, NULL::bytea;
          RETURN;
        END IF;
        PERFORM set_config('tidewatch.audit_purge', 'on', true);
        DELETE FROM public.audit_entries e WHERE e.sequence <= through_sequence;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM set_config('tidewatch.audit_purge', 'off', true);
        RETURN QUERY SELECT n, lo, hi.sequence, hi.hash;
      END $$`);

    await q.query(`REVOKE ALL ON audit_entries FROM PUBLIC`);
    await q.query(`REVOKE ALL ON FUNCTION audit_purge(bigint) FROM PUBLIC`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION audit_purge(bigint)`);
    await q.query(`DROP TABLE audit_entries`);
    await q.query(`DROP FUNCTION audit_entries_refuse()`);
  }
}
