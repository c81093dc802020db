import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { AuthSettings } from '../config/auth-environment';
import { hashSecret } from '../enrollment/secrets';
import { passwordExpired } from '../users/user';
import type { LdapUsers } from './ldap/ldap-users.service';
import type { PolicySource } from './policy/sign-in-policy';
import type { Principal } from './principal';
import type { Role } from './roles';

export const SESSION_COOKIE = 'tidewatch_session';

/**
 * How often a session's idle clock (last_seen_at) is written: a tenth of the idle timeout, at
 * most 30 s. Requests in between only read it.
 */
export const touchSeconds = (s: Pick<AuthSettings, 'sessionIdleMinutes'>): number =>
  Math.min(30, (s.sessionIdleMinutes * 60) / 10);

/**
 * Opaque 256-bit session tokens (`tws_…`), stored as SHA-256. A session ends
 * after AUTH_SESSION_IDLE_MINUTES without a request, AUTH_SESSION_ABSOLUTE_HOURS
 * after sign-in, at logout, and when the password or role changes.
 */
export class SessionsService {
  constructor(
    private readonly ds: DataSource,
    private readonly settings: AuthSettings,
    private readonly policy: PolicySource,
    private readonly ldap: LdapUsers | null = null,
  ) {}

  async create(
    userId: string,
    source: string | null,
  ): Promise<{ token: string; id: string; expiresAt: Date }> {
    const token = `tws_${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + this.settings.sessionAbsoluteHours * 3_600_000);
    await this.ds.query(
      `INSERT INTO sessions (id, token_hash, user_id, source, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [id, hashSecret(token), userId, source, expiresAt],
    );
    return { token, id, expiresAt };
  }

  /** The live session for a token (touching its idle clock), or null. */
  async authenticate(token: string): Promise<Principal | null> {
    const rows: {
      id: string;
      user_id: string;
      username: string;
      role: Role;
      source: 'local' | 'ldap';
      must_change_password: boolean;
      password_changed_at: Date | null;
      totp_enrolled_at: Date | null;
      expires_at: Date;
    }[] = await this.ds.query(
      // The idle clock is moved at most every touchSeconds: a request in between writes
      // nothing, so it commits without waiting for a WAL flush (on a busy disk one such wait
      // can take longer than the dashboard query it guards). A session may therefore end up
      // to touchSeconds early, never late.
      `WITH live AS (
         SELECT s.id, s.user_id, s.expires_at, s.last_seen_at, u.username, u.role, u.source,
                u.must_change_password, u.password_changed_at, u.totp_enrolled_at
           FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
            AND s.last_seen_at > now() - make_interval(mins => $2)
            AND u.disabled_at IS NULL),
       touched AS (
         UPDATE sessions s SET last_seen_at = now() FROM live
          WHERE s.id = live.id AND live.last_seen_at <= now() - make_interval(secs => $3))
       SELECT id, user_id, expires_at, username, role, source, must_change_password,
              password_changed_at, totp_enrolled_at
         FROM live`,
      [hashSecret(token), this.settings.sessionIdleMinutes, touchSeconds(this.settings)],
    );
    if (!rows.length) return null;
    const r = rows[0];
    // A directory user's groups are read again once the last check is LDAP_RECHECK_SECONDS old.
    if (r.source === 'ldap' && !(await this.ldap?.entitled(r.user_id, { source: null })))
      return null;
    const pending =
      r.must_change_password ||
      passwordExpired(
        { passwordChangedAt: r.password_changed_at, source: r.source },
        this.policy.current.passwordMaxAgeDays,
      )
        ? 'password'
        : // Directory administrators too: the directory password is one factor, not two.
          this.policy.current.totpRoles.includes(r.role) && !r.totp_enrolled_at
          ? 'totp'
          : null;
    return {
      kind: 'session',
      id: r.id,
      userId: r.user_id,
      name: r.username,
      role: r.role,
      pending,
      expiresAt: r.expires_at,
    };
  }

  async revoke(sessionId: string, reason: string): Promise<void> {
    await this.ds.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL`,
      [sessionId, reason],
    );
  }
}
