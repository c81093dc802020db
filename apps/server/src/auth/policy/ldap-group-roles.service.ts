import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { InvalidInputError } from '../../common/domain-errors';
import type { Actor } from '../../users/users.service';
import type { AuthAudit } from '../audit-port';
import type { LdapAccess } from '../ldap/ldap-access';
import { normalizeDn } from '../ldap/ldap-filter';
import { isRole, Role } from '../roles';
import { SecuritySettingsStore } from './security-settings-store';

export interface GroupRole {
  group: string;
  role: Role;
}

export interface GroupRolesState {
  /** False when LDAP_URL is unset: the mapping is kept but nobody signs in through LDAP. */
  ldapEnabled: boolean;
  mappings: GroupRole[];
  source: 'environment' | 'stored';
  updatedAt: Date | null;
  updatedBy: string | null;
}

const TARGET = 'ldap group mapping';

/**
 * Which directory group gives which role: LDAP_GROUP_ROLES until the security
 * administrator sets it (PUT /api/v1/auth/ldap/group-roles), then the stored
 * one. A change is audited (old and new mapping) and makes every directory
 * user's next request ask the directory again under the new mapping.
 */
export class LdapGroupRolesService {
  private readonly logger = new Logger('ldap-group-roles');
  private readonly store: SecuritySettingsStore;
  private state: GroupRolesState;

  constructor(
    private readonly ds: DataSource,
    private readonly ldap: LdapAccess | null,
    private readonly audit: AuthAudit,
  ) {
    this.store = new SecuritySettingsStore(ds);
    this.state = this.fromEnvironment();
  }

  private fromEnvironment(): GroupRolesState {
    return {
      ldapEnabled: this.ldap !== null,
      mappings: this.ldap
        ? normalizeMappings([...this.ldap.mapping].map(([group, role]) => ({ group, role })))
        : [],
      source: 'environment',
      updatedAt: null,
      updatedBy: null,
    };
  }

  describe(): GroupRolesState {
    return { ...this.state, mappings: this.state.mappings.map((m) => ({ ...m })) };
  }

  async load(): Promise<GroupRolesState> {
    const row = await this.store.read('ldap_group_roles');
    if (!row) return this.describe();
    const mappings = normalizeMappings(row.value as GroupRole[]);
    this.state = {
      ldapEnabled: this.ldap !== null,
      mappings,
      source: 'stored',
      updatedAt: row.updatedAt,
      updatedBy: row.updatedBy,
    };
    this.ldap?.setGroupRoles(new Map(mappings.map((m) => [m.group, m.role])));
    return this.describe();
  }

  reload(): void {
    this.load().catch((err: Error) =>
      this.logger.error(`LDAP group mapping not reloaded: ${err.message}`),
    );
  }

  async update(actor: Actor, input: GroupRole[]): Promise<GroupRolesState> {
    const mappings = normalizeMappings(input);
    await this.ds.transaction(async (m) => {
      await this.store.lock(m, 'ldap_group_roles');
      const row = await this.store.read('ldap_group_roles', m);
      const before = row
        ? normalizeMappings(row.value as GroupRole[])
        : this.fromEnvironment().mappings;
      await this.store.write(m, 'ldap_group_roles', mappings, actor.name);
      // Every directory user is checked again at their next request, under the new mapping.
      const [, rechecked]: [unknown, number] = await m.query(
        `UPDATE users SET ldap_checked_at = NULL WHERE source = 'ldap'`,
      );
      await this.audit.recordIn(m, {
        actor: actor.name,
        actorRole: actor.role,
        source: actor.source ?? null,
        requestId: actor.requestId ?? null,
        action: 'auth.ldap_group_roles_changed',
        target: TARGET,
        outcome: 'success',
        details: { from: before, to: mappings, directoryUsersRechecked: rechecked },
      });
    });
    return this.load();
  }
}

/** Group DNs normalized (one canonical form), sorted; one role per group. */
export function normalizeMappings(input: GroupRole[]): GroupRole[] {
  if (!Array.isArray(input)) throw new InvalidInputError('mappings must be a list');
  const map = new Map<string, Role>();
  for (const m of input) {
    if (typeof m?.group !== 'string' || !/=/.test(m.group)) {
      throw new InvalidInputError(`"${String(m?.group)}" is not a DN`);
    }
    if (!isRole(m.role)) throw new InvalidInputError(`group "${m.group}": unknown role`);
    const dn = normalizeDn(m.group);
    if (map.has(dn) && map.get(dn) !== m.role) {
      throw new InvalidInputError(`group "${m.group}" is listed twice with different roles`);
    }
    map.set(dn, m.role);
  }
  return [...map]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, role]) => ({ group, role }));
}
