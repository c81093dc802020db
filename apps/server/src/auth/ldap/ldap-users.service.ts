import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthAudit } from '../audit-port';
import { isAdminRole, type Role } from '../roles';
import { LdapAccess } from './ldap-access';
import { LdapBadCredentialsError, LdapNoRoleError } from './ldap-directory';

/** The users row of a directory user, as sign-in reads it. */
export interface LdapUserRow {
  id: string;
  username: string;
  role: Role;
  source: 'local' | 'ldap';
  password_hash: string | null;
  disabled: boolean;
  locked_until: Date | null;
  must_change_password: boolean;
  password_changed_at: Date | null;
  totp_enrolled_at: Date | null;
}

export type LdapLoginOutcome =
  | { ok: true; user: LdapUserRow }
  /** `user` is the existing row when there is one (its failures count towards lockout). */
  | { ok: false; reason: string; user: LdapUserRow | null };

/** Names the users table accepts (see the users migration). */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const ROW = `id, username, role, source, password_hash, disabled_at IS NOT NULL AS disabled,
             CASE WHEN locked_until > now() THEN locked_until END AS locked_until,
             must_change_password, password_changed_at, totp_enrolled_at`;

/**
 * Directory users in Tidewatch: a successful LDAP sign-in creates or updates
 * the user's row (source `ldap`, no local password, the role the directory
 * groups give), and `entitled` re-checks the directory for a session at most
 * every LDAP_RECHECK_SECONDS: a user out of the group, or moved to another
 * role, loses every session at that request.
 */
export class LdapUsers {
  constructor(
    private readonly ds: DataSource,
    private readonly ldap: LdapAccess,
    private readonly audit: AuthAudit,
  ) {}

  /**
   * Checks the password against the directory. LdapUnavailableError (503)
   * propagates: a directory that cannot answer signs nobody in.
   */
  async login(username: string, password: string): Promise<LdapLoginOutcome> {
    const existing = await this.row(username);
    if (existing && existing.source !== 'ldap') {
      return { ok: false, reason: 'not a directory account', user: existing };
    }
    let signIn;
    try {
      signIn = await this.ldap.signIn(username, password);
    } catch (err) {
      if (err instanceof LdapBadCredentialsError) {
        return { ok: false, reason: existing ? 'wrong password' : 'unknown user', user: existing };
      }
      if (err instanceof LdapNoRoleError) {
        return { ok: false, reason: `directory: ${err.message}`, user: existing };
      }
      throw err;
    }
    const { identity, role } = signIn;
    if (!USERNAME.test(identity.username)) {
      return {
        ok: false,
        reason: `directory user name ${JSON.stringify(identity.username)} is not a valid Tidewatch user name`,
        user: existing,
      };
    }
    // One administrator role per person, for life (as for local users): the directory
    // cannot turn a former secadmin into the sysadmin.
    const [held]: { admin_role: Role | null }[] = await this.ds.query(
      `SELECT admin_role FROM users WHERE lower(username) = lower($1)`,
      [identity.username],
    );
    if (isAdminRole(role) && held?.admin_role && held.admin_role !== role) {
      return {
        ok: false,
        reason: `directory gives role ${role}, but this user has held ${held.admin_role}; administrator roles are never combined`,
        user: existing,
      };
    }
    const rows: LdapUserRow[] = await this.ds.query(
      `INSERT INTO users (id, username, role, admin_role, source, ldap_dn, ldap_checked_at, created_by)
       VALUES ($1, $2, $3, $4, 'ldap', $5, now(), 'ldap')
       ON CONFLICT ((lower(username))) DO UPDATE SET
         role = EXCLUDED.role,
         admin_role = COALESCE(users.admin_role, EXCLUDED.admin_role),
         ldap_dn = EXCLUDED.ldap_dn,
         ldap_checked_at = now()
       WHERE users.source = 'ldap'
       RETURNING ${ROW}`,
      [randomUUID(), identity.username, role, isAdminRole(role) ? role : null, identity.dn],
    );
    if (!rows.length) return { ok: false, reason: 'not a directory account', user: existing };
    if (existing && existing.role !== role) {
      // The directory moved the user: sessions of the old role end with it.
      await this.ds.query(
        `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
          WHERE user_id = $1 AND revoked_at IS NULL`,
        [existing.id, `directory: role changed from ${existing.role} to ${role}`],
      );
    }
    return { ok: true, user: rows[0] };
  }

  /**
   * For a request on a session of a directory user: true while the last
   * directory check is recent, or a check now confirms the role. False (and
   * every session of the user revoked, audited) when the directory no longer
   * gives that role. One request claims a due check; the rest go on meanwhile.
   */
  async entitled(
    userId: string,
    context: { source: string | null; requestId?: string | null },
  ): Promise<boolean> {
    const [claimed]: [
      { ldap_dn: string | null; role: Role; username: string; before: Date | null }[],
      number,
    ] = await this.ds.query(
      `UPDATE users u SET ldap_checked_at = now()
           FROM (SELECT id, ldap_checked_at AS before FROM users WHERE id = $1 FOR UPDATE) old
          WHERE u.id = old.id AND u.source = 'ldap'
            AND (u.ldap_checked_at IS NULL OR u.ldap_checked_at <= now() - make_interval(secs => $2))
          RETURNING u.ldap_dn, u.role, u.username, old.before`,
      [userId, this.ldap.recheckSeconds],
    );
    if (!claimed.length) return true; // checked recently (or not a directory user)
    const c = claimed[0];
    let verdict;
    try {
      verdict = c.ldap_dn
        ? await this.ldap.recheck(c.ldap_dn, c.role)
        : { ok: false as const, reason: 'no directory entry recorded' };
    } catch (err) {
      // Not answered: the check stays due (the next request asks again); this one fails.
      await this.ds.query(`UPDATE users SET ldap_checked_at = $2 WHERE id = $1`, [
        userId,
        c.before,
      ]);
      throw err;
    }
    if (verdict.ok) return true;
    await this.ds.transaction(async (em) => {
      await em.query(
        `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
          WHERE user_id = $1 AND revoked_at IS NULL`,
        [userId, `directory: ${verdict.reason}`],
      );
      await this.audit.recordIn(em, {
        actor: c.username,
        actorRole: c.role,
        source: context.source,
        requestId: context.requestId ?? null,
        action: 'auth.ldap.recheck',
        target: c.username,
        outcome: 'denied',
        reason: verdict.reason,
      });
    });
    return false;
  }

  private async row(username: string): Promise<LdapUserRow | null> {
    const rows: LdapUserRow[] = await this.ds.query(
      `SELECT ${ROW} FROM users WHERE lower(username) = lower($1)`,
      [username],
    );
    return rows[0] ?? null;
  }
}
