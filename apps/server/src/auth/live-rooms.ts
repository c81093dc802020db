import type { Role } from './roles';

/** Who may open the live feed and join its rooms: the traffic readers and the system administrator. */
export const LIVE_ROLES: readonly Role[] = ['sysadmin', 'operator', 'viewer'];

/** Roles admitted to one room: `fleet` or `host:<agentId>`. */
export function roomRoles(room: string): readonly Role[] {
  if (room === 'fleet' || room.startsWith('host:')) return LIVE_ROLES;
  return [];
}
