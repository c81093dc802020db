import type { ApiPaths, Schemas } from '../api/client';

// What the administration pages show and send, as the server's OpenAPI document describes the
// request bodies and the answers.

type Body<P extends keyof ApiPaths, M extends 'post' | 'patch'> = ApiPaths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

export type Role = Body<'/api/v1/users', 'post'>['role'];
export type TokenRole = Body<'/api/v1/api-tokens', 'post'>['role'];
/** In the order offered (the spec checks both lists against the server's OpenAPI document). */
export const ROLES: readonly Role[] = ['sysadmin', 'secadmin', 'auditadmin', 'operator', 'viewer'];
export const TOKEN_ROLES: readonly TokenRole[] = ['operator', 'viewer'];

export type AdminUser = Schemas['UserView'];
export type ApiToken = Schemas['ApiTokenListItem'];

/** The states a user row shows, in this order (a user may be in several). */
export function userStates(u: AdminUser): ('disabled' | 'locked' | 'mustChange' | 'active')[] {
  const s: ('disabled' | 'locked' | 'mustChange')[] = [];
  if (u.disabledAt) s.push('disabled');
  if (u.lockedUntil) s.push('locked');
  if (u.mustChangePassword) s.push('mustChange');
  return s.length ? s : ['active'];
}

/** A token is usable until revoked or expired. */
export function tokenState(t: ApiToken, now: Date): 'revoked' | 'expired' | 'active' {
  if (t.revokedAt) return 'revoked';
  return Date.parse(t.expiresAt) <= now.getTime() ? 'expired' : 'active';
}

/** An enrollment token as GET /api/v1/enrollment-tokens lists it (never the token itself). */
export type EnrollmentToken = Schemas['EnrollmentTokenView'];

/** An enrollment token enrolls agents until revoked, expired or used up. */
export function enrollmentState(
  t: EnrollmentToken,
  now: Date,
): 'revoked' | 'expired' | 'usedUp' | 'active' {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now.getTime()) return 'expired';
  if (t.maxUses !== null && t.uses >= t.maxUses) return 'usedUp';
  return 'active';
}
