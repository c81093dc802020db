// How a bank runs the server under a role that cannot change the audit trail:
// the table (and its trigger and purge functions) belong to a NOLOGIN owner role;
// the server's role may SELECT and INSERT it and call audit_purge(), nothing else.
// Role names are validated by the caller (identifier pattern) before they get here.

export function lockDownStatements(owner: string, appRole: string): string[] {
  const o = `"${owner}"`;
  const a = `"${appRole}"`;
  return [
    `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${owner}') THEN CREATE ROLE ${o} NOLOGIN; END IF; END $$`,
    `ALTER TABLE audit_entries OWNER TO ${o}`,
    `ALTER FUNCTION audit_entries_refuse() OWNER TO ${o}`,
    `ALTER FUNCTION audit_purge(bigint) OWNER TO ${o}`,
    `REVOKE ALL ON audit_entries FROM PUBLIC`,
    `REVOKE ALL ON audit_entries FROM ${a}`,
    `GRANT SELECT, INSERT ON audit_entries TO ${a}`,
    `REVOKE ALL ON FUNCTION audit_purge(bigint) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION audit_purge(bigint) TO ${a}`,
  ];
}

/** What the server's own connection may do to the audit table (checked at boot). */
export const PRIVILEGE_CHECK = `SELECT r.rolsuper AS superuser,
    pg_has_role(current_user, c.relowner, 'USAGE') AS owner,
    has_table_privilege('audit_entries', 'UPDATE') AS can_update,
    has_table_privilege('audit_entries', 'DELETE') AS can_delete,
    has_table_privilege('audit_entries', 'TRUNCATE') AS can_truncate
  FROM pg_roles r, pg_class c
 WHERE r.rolname = current_user AND c.oid = 'audit_entries'::regclass`;
