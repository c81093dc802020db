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
