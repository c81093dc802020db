import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { AuthAudit, AuthAuditEntry } from '../auth/audit-port';
import { hashPassword, verifyPassword } from '../auth/password-hash';
import { checkPasswordPolicy, generatePassword, WeakPasswordError } from '../auth/password-policy';
import { isAdminRole, isRole, Role } from '../auth/roles';
import { DomainError, InvalidInputError, NotFoundError } from '../common/domain-errors';
import type { PolicySource } from '../auth/policy/sign-in-policy';
import type { AuthSettings } from '../config/auth-environment';
import { fromRow, User, USER_COLUMNS, UserRow } from './user';

/** Who does something: a signed-in user, an API token, or the CLI (`cli:<os user>`). */
export interface Actor {
  name: string;
  role: Role | null;
  source?: string | null;
  requestId?: string | null;
}

export class UserConflictError extends DomainError {
  override name = 'UserConflictError';
  readonly kind = 'conflict';
}

/** The three administrator roles are held by different people (三权分立). */
export class AdminSeparationError extends DomainError {
  override name = 'AdminSeparationError';
  readonly kind = 'conflict';
}

export interface CreatedUser {
  user: User;
  /** Set when the password was generated: shown once, to be changed at first sign-in. */
  generatedPassword: string | null;
}

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Local users and their roles. Every change is audited in the same transaction. */
export class UsersService {
  constructor(
    private readonly ds: DataSource,
    private readonly settings: AuthSettings,
    private readonly policy: PolicySource,
    private readonly audit: AuthAudit,
  ) {}

  private scrypt() {
    return { ln: this.settings.scryptLogN, r: 8, p: 1 };
  }

  private entry(actor: Actor, e: Omit<AuthAuditEntry, 'actor' | 'actorRole'>): AuthAuditEntry {
    return {
      actor: actor.name,
      actorRole: actor.role,
      source: actor.source ?? null,
      requestId: actor.requestId ?? null,
      ...e,
    };
  }

  async create(
    actor: Actor,
    input: { username: string; role: string; password?: string | null },
  ): Promise<CreatedUser> {
    const { username, role } = input;
    if (!USERNAME.test(username)) {
      throw new InvalidInputError(
        'username must be 1-64 characters: letters, digits, ".", "_", "@", "-" (starting with a letter or digit)',
      );
    }
    if (!isRole(role)) {
      throw new InvalidInputError(
        `role must be one of sysadmin, secadmin, auditadmin, operator, viewer; got "${role}"`,
      );
    }
    const generated = input.password ? null : generatePassword();
    const password = input.password ?? generated!;
    if (input.password) checkPasswordPolicy(input.password, username, this.policy.current);
    const hash = await hashPassword(password, this.scrypt());
    const id = randomUUID();
    return this.ds.transaction(async (m) => {
      const clash = await m.query(`SELECT 1 FROM users WHERE lower(username) = lower($1)`, [
        username,
      ]);
      if (clash.length) {
        // Recorded outside this transaction, which the throw rolls back.
        await this.audit.record(
          this.entry(actor, {
            action: 'user.created',
            target: username,
            outcome: 'failure',
            reason: 'username taken',
          }),
        );
        throw new UserConflictError(`user "${username}" already exists`);
      }
      const rows: UserRow[] = await m.query(
        `INSERT INTO users (id, username, role, admin_role, password_hash, password_changed_at,
                            must_change_password, created_by)
         VALUES ($1, $2, $3, $4, $5, now(), $6, $7) RETURNING ${USER_COLUMNS}`,
        [id, username, role, isAdminRole(role) ? role : null, hash, generated !== null, actor.name],
      );
      await m.query(`INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)`, [
        id,
        hash,
      ]);
      await this.audit.recordIn(
        m,
        this.entry(actor, {
          action: 'user.created',
          target: username,
          outcome: 'success',
          details: { role, generatedPassword: generated !== null },
        }),
      );
      return { user: fromRow(rows[0]), generatedPassword: generated };
    });
  }

  async list(): Promise<User[]> {
    const rows: UserRow[] = await this.ds.query(
      `SELECT ${USER_COLUMNS} FROM users ORDER BY lower(username)`,
    );
    return rows.map(fromRow);
  }

  async get(username: string, m: EntityManager = this.ds.manager): Promise<User> {
    const rows: UserRow[] = await m.query(
      `SELECT ${USER_COLUMNS} FROM users WHERE lower(username) = lower($1)`,
      [username],
    );
    if (!rows.length) throw new NotFoundError(`no user "${username}"`);
    return fromRow(rows[0]);
  }

  /**
   * One role per user. An account that has held an administrator role never
   * takes another administrator role (that would put two of system, security
   * and audit administration in one hand); nobody changes their own role.
   */
  async setRole(actor: Actor, username: string, role: string): Promise<User> {
    if (!isRole(role)) throw new InvalidInputError(`unknown role "${role}"`);
    return this.ds.transaction(async (m) => {
      const rows: (UserRow & { admin_role: Role | null })[] = await m.query(
        `SELECT ${USER_COLUMNS}, admin_role FROM users WHERE lower(username) = lower($1) FOR UPDATE`,
        [username],
      );
      if (!rows.length) throw new NotFoundError(`no user "${username}"`);
      const row = rows[0];
      const refuse = async (reason: string, err: Error) => {
        // Recorded outside this transaction, which the throw rolls back.
        await this.audit.record(
          this.entry(actor, {
            action: 'user.role_changed',
            target: row.username,
            outcome: 'denied',
            reason,
            details: { from: row.role, to: role },
          }),
        );
        throw err;
      };
      if (row.username.toLowerCase() === actor.name.toLowerCase()) {
        await refuse('own role', new AdminSeparationError('nobody changes their own role'));
      }
      if (isAdminRole(role) && row.admin_role && row.admin_role !== role) {
        await refuse(
          'second administrator role',
          new AdminSeparationError(
            `"${row.username}" has held ${row.admin_role}; the administrator roles are held by different users ` +
              `(create a separate account for ${role})`,
          ),
        );
      }
      const [updated]: [UserRow[], number] = await m.query(
        `UPDATE users SET role = $2, admin_role = coalesce(admin_role, $3) WHERE id = $1
         RETURNING ${USER_COLUMNS}`,
        [row.id, role, isAdminRole(role) ? role : null],
      );
      // A new role takes effect at once: sessions signed in under the old one end.
      await this.revokeSessions(m, row.id, 'role changed');
      await this.audit.recordIn(
        m,
        this.entry(actor, {
          action: 'user.role_changed',
          target: row.username,
          outcome: 'success',
          details: { from: row.role, to: role },
        }),
      );
      return fromRow(updated[0]);
    });
  }

  async setDisabled(actor: Actor, username: string, disabled: boolean): Promise<User> {
    return this.ds.transaction(async (m) => {
      const user = await this.get(username, m);
      if (disabled && user.username.toLowerCase() === actor.name.toLowerCase()) {
        throw new UserConflictError('you cannot disable your own account');
      }
      const [rows]: [UserRow[], number] = await m.query(
        `UPDATE users SET disabled_at = ${disabled ? 'coalesce(disabled_at, now())' : 'NULL'}
          WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [user.id],
      );
      if (disabled) await this.revokeSessions(m, user.id, 'account disabled');
      await this.audit.recordIn(
        m,
        this.entry(actor, {
          action: disabled ? 'user.disabled' : 'user.enabled',
          target: user.username,
          outcome: 'success',
        }),
      );
      return fromRow(rows[0]);
    });
  }

  /**
   * A new generated password (changed at next sign-in), lockout cleared,
   * sessions ended; with `totp`, the second factor is enrolled anew too.
   */
  async reset(
    actor: Actor,
    username: string,
    opts: { totp?: boolean } = {},
  ): Promise<{ user: User; password: string }> {
    const password = generatePassword();
    const hash = await hashPassword(password, this.scrypt());
    return this.ds.transaction(async (m) => {
      const user = await this.get(username, m);
      if (user.source !== 'local')
        throw new UserConflictError(`"${username}" signs in through LDAP`);
      const [rows]: [UserRow[], number] = await m.query(
        `UPDATE users SET password_hash = $2, password_changed_at = now(), must_change_password = true,
                failed_attempts = 0, failed_since = NULL, locked_until = NULL
                ${opts.totp ? ', totp_secret = NULL, totp_pending_secret = NULL, totp_enrolled_at = NULL, totp_last_step = NULL' : ''}
          WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [user.id, hash],
      );
      await m.query(`INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)`, [
        user.id,
        hash,
      ]);
      await this.revokeSessions(m, user.id, 'password reset');
      await this.audit.recordIn(
        m,
        this.entry(actor, {
          action: 'user.password_reset',
          target: user.username,
          outcome: 'success',
          details: { totpReset: opts.totp === true },
        }),
      );
      return { user: fromRow(rows[0]), password };
    });
  }

  async unlock(actor: Actor, username: string): Promise<User> {
    return this.ds.transaction(async (m) => {
      const user = await this.get(username, m);
      const [rows]: [UserRow[], number] = await m.query(
        `UPDATE users SET failed_attempts = 0, failed_since = NULL, locked_until = NULL
          WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [user.id],
      );
      await this.audit.recordIn(
        m,
        this.entry(actor, { action: 'user.unlocked', target: user.username, outcome: 'success' }),
      );
      return fromRow(rows[0]);
    });
  }

  /**
   * The user's own change: the current password proves it is them; the new one
   * follows the policy and repeats none of the policy's last passwordHistory.
   * Every session of the user ends (they sign in again with the new password).
   */
  async changePassword(actor: Actor, userId: string, current: string, next: string): Promise<void> {
    const rows: { username: string; password_hash: string | null; source: string }[] =
      await this.ds.query(`SELECT username, password_hash, source FROM users WHERE id = $1`, [
        userId,
      ]);
    if (!rows.length) throw new NotFoundError('no such user');
    const { username, password_hash: stored, source } = rows[0];
    const fail = async (reason: string, err: Error): Promise<never> => {
      await this.audit.record(
        this.entry(actor, {
          action: 'user.password_changed',
          target: username,
          outcome: 'failure',
          reason,
        }),
      );
      throw err;
    };
    if (source !== 'local' || !stored) {
      return fail('ldap user', new UserConflictError('this account signs in through LDAP'));
    }
    if (!(await verifyPassword(current, stored))) {
      return fail('wrong current password', new InvalidInputError('current password is wrong'));
    }
    try {
      checkPasswordPolicy(next, username, this.policy.current);
    } catch (err) {
      return fail((err as Error).message, err as Error);
    }
    const history: { password_hash: string }[] = await this.ds.query(
      `SELECT password_hash FROM password_history WHERE user_id = $1
        ORDER BY created_at DESC LIMIT $2`,
      [userId, Math.max(1, this.policy.current.passwordHistory)],
    );
    for (const h of [stored, ...history.map((x) => x.password_hash)]) {
      if (await verifyPassword(next, h)) {
        return fail(
          'reused password',
          new WeakPasswordError(
            `the new password must differ from the last ${Math.max(1, this.policy.current.passwordHistory)} password(s)`,
          ),
        );
      }
    }
    const hash = await hashPassword(next, this.scrypt());
    await this.ds.transaction(async (m) => {
      await m.query(
        `UPDATE users SET password_hash = $2, password_changed_at = now(), must_change_password = false
          WHERE id = $1`,
        [userId, hash],
      );
      await m.query(`INSERT INTO password_history (user_id, password_hash) VALUES ($1, $2)`, [
        userId,
        hash,
      ]);
      // Only the last N stay (N = the policy's passwordHistory, at least the current one).
      await m.query(
        `DELETE FROM password_history WHERE user_id = $1 AND ctid NOT IN (
           SELECT ctid FROM password_history WHERE user_id = $1 ORDER BY created_at DESC LIMIT $2)`,
        [userId, Math.max(1, this.policy.current.passwordHistory)],
      );
      await this.revokeSessions(m, userId, 'password changed');
      await this.audit.recordIn(
        m,
        this.entry(actor, {
          action: 'user.password_changed',
          target: username,
          outcome: 'success',
        }),
      );
    });
  }

  private async revokeSessions(m: EntityManager, userId: string, reason: string): Promise<void> {
    await m.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId, reason],
    );
  }
}
