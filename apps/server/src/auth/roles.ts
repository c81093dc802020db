/**
 * The five roles (stable names: ../shared/DESIGN.md). One role per user; the
 * three administrator roles are held by different users (三权分立).
 */
export const ROLES = ['sysadmin', 'secadmin', 'auditadmin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** System, security and audit administrators: never two of them for one person. */
export const ADMIN_ROLES: readonly Role[] = ['sysadmin', 'secadmin', 'auditadmin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isAdminRole(role: Role): boolean {
  return ADMIN_ROLES.includes(role);
}
