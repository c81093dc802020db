import { LIVE_ROLES, ROUTE_ROLES } from '../api/generated/roles';

// What a role may do, from the server's own @Roles declarations (generated, never copied by
// hand): pages and buttons a role may not use are not shown; the server refuses them anyway.

export type Route = keyof typeof ROUTE_ROLES;

/**
 * May `role` call `route` ("POST /api/v1/anomalies/{id}/acknowledge")? No user (a server
 * without sign-in) may call everything: such a server refuses nothing.
 */
export function mayCall(role: string | null | undefined, route: Route): boolean {
  if (!role) return true;
  return (ROUTE_ROLES[route] as readonly string[]).includes(role);
}

/** May `role` open the live feed (WebSocket /api/v1/live)? */
export function mayWatchLive(role: string | null | undefined): boolean {
  if (!role) return true;
  return (LIVE_ROLES as readonly string[]).includes(role);
}

/**
 * The page a role starts on (`/` and the brand link go there): the one its work is on. The
 * administrator roles have no traffic to look at: the fleet page would only say "not allowed".
 */
const HOME: Record<string, { path: string; route: Route }> = {
  sysadmin: { path: '/admin/enrollment-tokens', route: 'GET /api/v1/enrollment-tokens' },
  secadmin: { path: '/admin/users', route: 'GET /api/v1/users' },
  auditadmin: { path: '/audit', route: 'GET /api/v1/audit' },
};

/** Where `role` starts, without the locale: its own page, else the fleet overview. */
export function homePath(role: string | null | undefined): string {
  const home = role ? HOME[role] : undefined;
  return home && mayCall(role, home.route) ? home.path : '/fleet';
}
