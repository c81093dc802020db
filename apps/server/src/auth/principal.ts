import type { Role } from './roles';

/** Who a request comes from, once the guard authenticated it (on `request.principal`). */
export interface Principal {
  kind: 'session' | 'token';
  /** The session or API token id. */
  id: string;
  userId: string | null;
  /** The audit trail's actor: the username, or `token:<name>` for an API token. */
  name: string;
  role: Role;
  /**
   * Set while the account may only finish signing in: change its password
   * (generated, expired) or enrol TOTP (required for its role).
   */
  pending: 'password' | 'totp' | null;
  expiresAt: Date;
}
