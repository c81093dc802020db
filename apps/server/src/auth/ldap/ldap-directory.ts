import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { DomainError } from '../../common/domain-errors';
import type { Role } from '../roles';
import { fillFilter, isPlausibleUsername, normalizeDn } from './ldap-filter';
import type { LdapSettings } from './ldap-settings';

// LDAP result codes (RFC 4511 §4.1.9).
const SIZE_LIMIT_EXCEEDED = 4;
const NO_SUCH_OBJECT = 32;

/** Wrong user name or password, or a user the directory does not have (one answer for all). */
export class LdapBadCredentialsError extends DomainError {
  override name = 'LdapBadCredentialsError';
  readonly kind = 'unauthenticated';
}

/** Signed in, but no group of the user maps to a role (or groups map to several). */
export class LdapNoRoleError extends DomainError {
  override name = 'LdapNoRoleError';
  readonly kind = 'forbidden';
}

/** The directory cannot be reached, refused TLS, or refused the service account. */
export class LdapUnavailableError extends DomainError {
  override name = 'LdapUnavailableError';
  readonly kind = 'unavailable';
}

export interface LdapIdentity {
  /** The name as the directory spells it (the user attribute the filter matched is not known). */
  username: string;
  dn: string;
  /** DNs of the groups the group filter found for the user. */
  groups: string[];
}

export type RoleResolution =
  { ok: true; role: Role; group: string } | { ok: false; reason: string };

/** The one role the user's groups give: none, or two different ones, is a refusal. */
export function resolveRole(groups: string[], map: ReadonlyMap<string, Role>): RoleResolution {
  const hits = groups
    .map((g) => ({ group: g, role: map.get(normalizeDn(g)) }))
    .filter((h): h is { group: string; role: Role } => h.role !== undefined);
  const roles = [...new Set(hits.map((h) => h.role))];
  if (roles.length === 0) return { ok: false, reason: 'no group of the user maps to a role' };
  if (roles.length > 1) {
    return {
      ok: false,
      reason: `the user's groups map to several roles (${roles.sort().join(', ')}); one role per user`,
    };
  }
  return { ok: true, role: roles[0], group: hits[0].group };
}

/**
 * Search-then-bind against an LDAP directory or Active Directory: the service
 * account finds the user's entry by the escaped name, the user's own password
 * is checked by binding as that entry, and the groups come from a second
 * search. Every connection is TLS (LDAPS or StartTLS, the certificate verified)
 * and lives for one operation.
 */
export class LdapDirectory {
  private readonly tls: ConnectionOptions;

  constructor(private readonly settings: LdapSettings) {
    const host = new URL(settings.url).hostname.replace(/^\[|\]$/g, '');
    this.tls = {
      ca: settings.caFile ? readFileSync(settings.caFile) : undefined,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // SNI takes names only; the certificate is checked against the host either way.
      servername: isIP(host) ? undefined : host,
      host,
    };
  }

  /** Checks the password; resolves with the user's entry and groups. */
  async authenticate(username: string, password: string): Promise<LdapIdentity> {
    // An empty password would be an "unauthenticated bind", which many servers accept.
    if (!isPlausibleUsername(username) || password.length === 0) {
      throw new LdapBadCredentialsError('bad user name or password');
    }
    return this.withClient(async (client) => {
      const entry = await this.findUser(client, username);
      if (!entry) throw new LdapBadCredentialsError('bad user name or password');
      try {
        await client.bind(entry.dn, password);
      } catch (err) {
        if (err instanceof InvalidCredentialsError) {
          throw new LdapBadCredentialsError('bad user name or password');
        }
        throw err;
      }
      // Groups are read with the service account, as at every later re-check.
      await this.bindService(client);
      return {
        username: nameOf(entry, username),
        dn: entry.dn,
        groups: await this.groupsOf(client, entry.dn),
      };
    });
  }

  /** The user's entry and groups now, by DN; null when the entry is gone. */
  async lookup(dn: string): Promise<LdapIdentity | null> {
    return this.withClient(async (client) => {
      let entries: Entry[];
      try {
        ({ searchEntries: entries } = await client.search(dn, {
          scope: 'base',
          filter: '(objectClass=*)',
          attributes: ['uid', 'sAMAccountName', 'cn'],
          sizeLimit: 1,
        }));
      } catch (err) {
        if ((err as { code?: number }).code === NO_SUCH_OBJECT) return null;
        throw err;
      }
      if (entries.length !== 1) return null;
      return {
        username: nameOf(entries[0], ''),
        dn: entries[0].dn,
        groups: await this.groupsOf(client, entries[0].dn),
      };
    });
  }

  private async withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const s = this.settings;
    const client = new Client({
      url: s.url,
      timeout: s.timeoutMs,
      connectTimeout: s.timeoutMs,
      // For ldap:// any TLS option would make ldapts speak TLS at once: StartTLS gets them instead.
      tlsOptions: s.startTls ? undefined : { ...this.tls },
    });
    try {
      // A copy: startTLS() writes the socket into the options it is given.
      if (s.startTls) await client.startTLS({ ...this.tls });
      await this.bindService(client);
      return await fn(client);
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new LdapUnavailableError(`LDAP directory ${s.url}: ${(err as Error).message}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async bindService(client: Client): Promise<void> {
    const s = this.settings;
    if (s.bindDn === null) return;
    try {
      await client.bind(s.bindDn, s.bindPassword ?? '');
    } catch (err) {
      throw new LdapUnavailableError(
        `LDAP directory ${s.url} refused the service account ${s.bindDn}: ${(err as Error).message}`,
      );
    }
  }

  private async findUser(client: Client, username: string): Promise<Entry | null> {
    const s = this.settings;
    let entries: Entry[];
    try {
      ({ searchEntries: entries } = await client.search(s.userBase, {
        scope: 'sub',
        filter: fillFilter(s.userFilter, { username }),
        attributes: ['uid', 'sAMAccountName', 'cn'],
        // Two matches are as bad as none: the name must identify one entry.
        sizeLimit: 2,
      }));
    } catch (err) {
      if ((err as { code?: number }).code === SIZE_LIMIT_EXCEEDED) return null;
      throw err;
    }
    return entries.length === 1 ? entries[0] : null;
  }

  private async groupsOf(client: Client, dn: string): Promise<string[]> {
    const s = this.settings;
    const { searchEntries } = await client.search(s.groupBase, {
      scope: 'sub',
      filter: fillFilter(s.groupFilter, { dn }),
      attributes: ['cn'],
    });
    return searchEntries.map((e) => e.dn);
  }
}

function nameOf(entry: Entry, fallback: string): string {
  for (const attr of ['uid', 'sAMAccountName']) {
    const v = entry[attr];
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string' && first !== '') return first;
  }
  return fallback;
}
