import type { Role } from '../roles';
import { LdapDirectory, LdapIdentity, LdapNoRoleError, resolveRole } from './ldap-directory';
import type { LdapSettings } from './ldap-settings';

export interface LdapSignIn {
  identity: LdapIdentity;
  role: Role;
  /** The group that gave the role. */
  group: string;
}

export type LdapRecheck =
  { ok: true; role: Role; identity: LdapIdentity } | { ok: false; reason: string };

/**
 * LDAP sign-in as the session layer uses it: `signIn` at login (password checked,
 * exactly one role from the group mapping), and `recheck` for a session whose
 * last directory check is `due` — at most LDAP_RECHECK_SECONDS old, which is
 * kept at or below the session idle timeout, so a user taken out of the group
 * loses access at their next request after at most that long.
 */
export class LdapAccess {
  /** Group DN (normalized) -> role: LDAP_GROUP_ROLES until the security administrator sets it. */
  private groupRoles: Map<string, Role>;

  constructor(
    private readonly settings: LdapSettings,
    private readonly directory = new LdapDirectory(settings),
  ) {
    this.groupRoles = new Map(settings.groupRoles);
  }

  /** The mapping in force (see LdapGroupRolesService); applies from the next sign-in or re-check. */
  setGroupRoles(map: Map<string, Role>): void {
    this.groupRoles = new Map(map);
  }

  get mapping(): ReadonlyMap<string, Role> {
    return this.groupRoles;
  }

  get recheckSeconds(): number {
    return this.settings.recheckSeconds;
  }

  async signIn(username: string, password: string): Promise<LdapSignIn> {
    const identity = await this.directory.authenticate(username, password);
    const r = resolveRole(identity.groups, this.groupRoles);
    if (!r.ok) throw new LdapNoRoleError(`${identity.username}: ${r.reason}`);
    return { identity, role: r.role, group: r.group };
  }

  /** Whether a session last checked at `checkedAt` must ask the directory again. */
  due(checkedAt: Date, now: Date = new Date()): boolean {
    return now.getTime() - checkedAt.getTime() >= this.settings.recheckSeconds * 1000;
  }

  /**
   * The user's standing now: still there, and the groups still give `role`.
   * A changed role also ends the session (sign in again for the new one).
   * Throws LdapUnavailableError when the directory cannot answer: the caller
   * fails closed (the session is not extended on a guess).
   */
  async recheck(dn: string, role: Role): Promise<LdapRecheck> {
    const identity = await this.directory.lookup(dn);
    if (!identity) return { ok: false, reason: 'the directory entry is gone' };
    const r = resolveRole(identity.groups, this.groupRoles);
    if (!r.ok) return { ok: false, reason: r.reason };
    if (r.role !== role) {
      return { ok: false, reason: `the directory groups now give role ${r.role}, not ${role}` };
    }
    return { ok: true, role, identity };
  }
}
