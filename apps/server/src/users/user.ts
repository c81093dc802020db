import type { Role } from '../auth/roles';

/** A user as the services pass it around (never with secrets). */
export interface User {
  id: string;
  username: string;
  role: Role;
  source: 'local' | 'ldap';
  mustChangePassword: boolean;
  passwordChangedAt: Date | null;
  disabledAt: Date | null;
  lockedUntil: Date | null;
  totpEnrolled: boolean;
  createdAt: Date;
  createdBy: string | null;
  lastLoginAt: Date | null;
}

export interface UserRow {
  id: string;
  username: string;
  role: Role;
  source: 'local' | 'ldap';
  must_change_password: boolean;
  password_changed_at: Date | null;
  disabled_at: Date | null;
  locked_until: Date | null;
  totp_enrolled_at: Date | null;
  created_at: Date;
  created_by: string | null;
  last_login_at: Date | null;
}

export const USER_COLUMNS = `id, username, role, source, must_change_password, password_changed_at,
  disabled_at, locked_until, totp_enrolled_at, created_at, created_by, last_login_at`;

export function fromRow(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    role: r.role,
    source: r.source,
    mustChangePassword: r.must_change_password,
    passwordChangedAt: r.password_changed_at,
    disabledAt: r.disabled_at,
    lockedUntil: r.locked_until && r.locked_until > new Date() ? r.locked_until : null,
    totpEnrolled: r.totp_enrolled_at !== null,
    createdAt: r.created_at,
    createdBy: r.created_by,
    lastLoginAt: r.last_login_at,
  };
}

/** The password is older than the policy allows (AUTH_PASSWORD_MAX_AGE_DAYS; 0 = never). */
export function passwordExpired(u: Pick<User, 'passwordChangedAt' | 'source'>, maxAgeDays: number) {
  if (maxAgeDays === 0 || u.source !== 'local' || !u.passwordChangedAt) return false;
  return u.passwordChangedAt.getTime() + maxAgeDays * 86_400_000 < Date.now();
}
