import { MigrationInterface, QueryRunner } from 'typeorm';

// Users with one role each (the three administrator roles never on one
// account: admin_role remembers the first one held), their password history,
// console/API sessions and integration API tokens. Sessions and tokens are
// stored as SHA-256 of 256-bit random secrets; TOTP secrets are encrypted.
export class UsersAndSignIn1795700000000 implements MigrationInterface {
  name = 'UsersAndSignIn1795700000000';

  async up(q: QueryRunner): Promise<void> {
    const roles = `('sysadmin', 'secadmin', 'auditadmin', 'operator', 'viewer')`;
    await q.query(`CREATE TABLE users (
      id uuid PRIMARY KEY,
      username text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
      role text NOT NULL CHECK (role IN ${roles}),
      admin_role text CHECK (admin_role IN ('sysadmin', 'secadmin', 'auditadmin')),
      source text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'ldap')),
      password_hash text,
      password_changed_at timestamptz,
      must_change_password boolean NOT NULL DEFAULT false,
      disabled_at timestamptz,
      failed_attempts integer NOT NULL DEFAULT 0,
      failed_since timestamptz,
      locked_until timestamptz,
      totp_secret bytea,
      totp_pending_secret bytea,
      totp_enrolled_at timestamptz,
      totp_last_step bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text,
      last_login_at timestamptz,
      CHECK (role NOT IN ('sysadmin', 'secadmin', 'auditadmin') OR admin_role = role)
    )`);
    await q.query(`CREATE UNIQUE INDEX users_username_key ON users (lower(username))`);
    await q.query(`CREATE TABLE password_history (
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX password_history_user ON password_history (user_id, created_at)`);
    await q.query(`CREATE TABLE sessions (
      id uuid PRIMARY KEY,
      token_hash bytea NOT NULL UNIQUE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      source text,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      revoked_reason text
    )`);
    await q.query(`CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE TABLE api_tokens (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ${roles}),
      token_hash bytea NOT NULL UNIQUE,
      created_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      last_used_at timestamptz,
      last_used_from text
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE sessions`);
    await q.query(`DROP TABLE password_history`);
    await q.query(`DROP TABLE users`);
  }
}
