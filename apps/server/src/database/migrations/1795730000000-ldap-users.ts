import { MigrationInterface, QueryRunner } from 'typeorm';

// Directory (LDAP / AD) users: the DN their sign-in bound as, and when the
// directory last confirmed their role (re-checked at most every LDAP_RECHECK_SECONDS).
export class LdapUsers1795730000000 implements MigrationInterface {
  name = 'LdapUsers1795730000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE users ADD COLUMN ldap_dn text, ADD COLUMN ldap_checked_at timestamptz`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN ldap_dn, DROP COLUMN ldap_checked_at`);
  }
}
