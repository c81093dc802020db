import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-errors';
import type { AuthSettings } from '../config/auth-environment';
import { passwordExpired } from '../users/user';
import type { AuthAudit } from './audit-port';
import type { LdapUsers } from './ldap/ldap-users.service';
import type { PolicySource } from './policy/sign-in-policy';
import { burnPasswordCheck, hashPassword, needsRehash, verifyPassword } from './password-hash';
import type { Role } from './roles';
import { SessionsService } from './sessions.service';
import { TotpService } from './totp.service';

export class BadCredentialsError extends DomainError {
  override name = 'BadCredentialsError';
  readonly kind = 'unauthenticated';
}

/** The account is locked after too many failures; answered 423 with the time it opens again. */
export class AccountLockedError extends Error {
  override name = 'AccountLockedError';
  constructor(readonly until: Date) {
    super(`account locked until ${until.toISOString()}`);
  }
}

export interface LoginResult {
  accessToken: string;
  expiresAt: string;
  user: { username: string; role: Role };
  mustChangePassword: boolean;
}

interface Candidate {
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

/** One answer for every credential failure: unknown user, wrong password, wrong or missing code. */
const BAD = 'invalid username, password or code';

export interface LoginContext {
  source: string | null;
  requestId?: string | null;
}

/** Local sign-in: password, lockout, TOTP; every outcome audited. */
export class AuthService {
  constructor(
    private readonly ds: DataSource,
    private readonly settings: AuthSettings,
    private readonly policy: PolicySource,
    private readonly audit: AuthAudit,
    private readonly sessions: SessionsService,
    private readonly totp: TotpService,
    private readonly ldap: LdapUsers | null = null,
  ) {}

  private scrypt() {
    return { ln: this.settings.scryptLogN, r: 8, p: 1 };
  }

  async login(
    input: { username: string; password: string; totp?: string },
    ctx: LoginContext,
  ): Promise<LoginResult> {
    const base = { source: ctx.source, requestId: ctx.requestId ?? null, action: 'auth.login' };
    const rows: Candidate[] = await this.ds.query(
      `SELECT id, username, role, source, password_hash, disabled_at IS NOT NULL AS disabled,
              CASE WHEN locked_until > now() THEN locked_until END AS locked_until,
              must_change_password, password_changed_at, totp_enrolled_at
         FROM users WHERE lower(username) = lower($1)`,
      [input.username],
    );
    let u = rows[0];
    // Directory accounts (and names not known here) are checked against LDAP when it is on.
    const ldap = this.ldap && (!u || u.source === 'ldap') && !u?.disabled ? this.ldap : null;
    let ldapFailure: string | null = null;
    if (ldap && !u?.locked_until) {
      const r = await ldap.login(input.username, input.password);
      if (r.user) u = r.user;
      if (!r.ok) ldapFailure = r.reason;
      if (!r.ok && !r.user) {
        await this.audit.record({
          ...base,
          actor: input.username.slice(0, 64),
          actorRole: null,
          target: null,
          outcome: 'failure',
          reason: r.reason,
        });
        throw new BadCredentialsError(BAD);
      }
    }
    if (!u || u.disabled || (!ldap && (!u.password_hash || u.source !== 'local'))) {
      await burnPasswordCheck(input.password, this.scrypt());
      await this.audit.record({
        ...base,
        actor: input.username.slice(0, 64),
        actorRole: u?.role ?? null,
        target: u?.username ?? null,
        outcome: 'failure',
        reason: !u ? 'unknown user' : u.disabled ? 'account disabled' : 'not a local account',
      });
      throw new BadCredentialsError(BAD);
    }
    const who = { ...base, actor: u.username, actorRole: u.role, target: u.username };
    if (u.locked_until) {
      await this.audit.record({
        ...who,
        outcome: 'denied',
        reason: 'account locked',
        details: { lockedUntil: u.locked_until.toISOString() },
      });
      throw new AccountLockedError(u.locked_until);
    }
    const passwordOk = ldap
      ? ldapFailure === null
      : await verifyPassword(input.password, u.password_hash as string);
    const totpNeeded =
      this.policy.current.totpRoles.includes(u.role) && u.totp_enrolled_at !== null;
    // The code is only checked (and its step burnt) after the password matched.
    const totpOk = passwordOk && (!totpNeeded || (await this.totp.verify(u.id, input.totp)));
    if (!passwordOk || !totpOk) {
      await this.failure(
        u,
        who,
        !passwordOk
          ? (ldapFailure ?? 'wrong password')
          : input.totp
            ? 'wrong or reused code'
            : 'code missing',
      );
      throw new BadCredentialsError(BAD);
    }
    if (u.password_hash && needsRehash(u.password_hash, this.scrypt())) {
      const hash = await hashPassword(input.password, this.scrypt());
      // Only when nobody changed it meanwhile.
      await this.ds.query(
        `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`,
        [u.id, u.password_hash, hash],
      );
    }
    await this.ds.query(
      `UPDATE users SET failed_attempts = 0, failed_since = NULL, last_login_at = now() WHERE id = $1`,
      [u.id],
    );
    const session = await this.sessions.create(u.id, ctx.source);
    const mustChangePassword =
      u.must_change_password ||
      passwordExpired(
        { passwordChangedAt: u.password_changed_at, source: u.source },
        this.policy.current.passwordMaxAgeDays,
      );
    const totpEnrolmentDue = this.policy.current.totpRoles.includes(u.role) && !u.totp_enrolled_at;
    try {
      await this.audit.record({
        ...who,
        outcome: 'success',
        details: {
          session: session.id,
          secondFactor: totpNeeded ? 'totp' : 'none',
          ...(mustChangePassword ? { mustChangePassword } : {}),
          ...(totpEnrolmentDue ? { totpEnrolmentDue } : {}),
        },
      });
    } catch (err) {
      // Fail closed: a sign-in the trail does not hold does not happen.
      await this.sessions.revoke(session.id, 'audit trail unavailable');
      throw err;
    }
    return {
      accessToken: session.token,
      expiresAt: session.expiresAt.toISOString(),
      user: { username: u.username, role: u.role },
      mustChangePassword,
    };
  }

  /** Counts a failure in the window; the one that reaches the threshold locks the account. */
  private async failure(
    u: Candidate,
    who: {
      actor: string;
      actorRole: Role;
      target: string;
      source: string | null;
      requestId: string | null;
      action: string;
    },
    reason: string,
  ): Promise<void> {
    const s = this.policy.current;
    const [rows]: [{ failed_attempts: number; locked_until: Date | null }[], number] =
      await this.ds.query(
        `UPDATE users SET
           failed_attempts = CASE WHEN failed_since IS NULL OR failed_since <= now() - make_interval(mins => $2)
                                  THEN 1 ELSE failed_attempts + 1 END,
           failed_since = CASE WHEN failed_since IS NULL OR failed_since <= now() - make_interval(mins => $2)
                               THEN now() ELSE failed_since END
         WHERE id = $1 RETURNING failed_attempts, locked_until`,
        [u.id, s.lockoutWindowMinutes],
      );
    const attempts = rows[0]?.failed_attempts ?? 0;
    await this.audit.record({
      ...who,
      outcome: 'failure',
      reason,
      details: { failedAttempts: attempts },
    });
    if (attempts >= s.lockoutThreshold) {
      const [locked]: [{ locked_until: Date }[], number] = await this.ds.query(
        `UPDATE users SET locked_until = now() + make_interval(mins => $2),
                failed_attempts = 0, failed_since = NULL
          WHERE id = $1 RETURNING locked_until`,
        [u.id, s.lockoutMinutes],
      );
      await this.audit.record({
        ...who,
        action: 'auth.lockout',
        outcome: 'denied',
        reason: `${attempts} failed sign-ins within ${s.lockoutWindowMinutes} min`,
        details: { lockedUntil: locked[0].locked_until.toISOString() },
      });
    }
  }
}
