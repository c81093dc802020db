import { MigrationInterface, QueryRunner } from 'typeorm';

// Settings the security administrator manages at run time (sign-in policy, LDAP
// group → role mapping): one row per setting, absent until first changed (the
// environment gives the value until then). Every change is audited with old and new.
export class SecuritySettings1795740000000 implements MigrationInterface {
  name = 'SecuritySettings1795740000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE security_settings (
         name text PRIMARY KEY CHECK (name IN ('sign_in_policy', 'ldap_group_roles')),
         value jsonb NOT NULL,
         updated_at timestamptz NOT NULL DEFAULT now(),
         updated_by text NOT NULL
       )`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE security_settings`);
  }
}
